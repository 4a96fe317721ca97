package playbook

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/playbookd/playbookd/internal/netguard"
)

// Notify steps post to webhooks, and some webhooks' URLs are credentials: a
// Slack incoming webhook's path is its secret. Definitions are read by
// every key and console page, so such a URL is kept as a named secret (only
// admins write them, nobody reads them back) that a notify step names with
// `secret:`; the worker looks it up when it posts.

// SecretNamePattern is what a secret's name looks like, as a playbook key
// does; the database holds secrets to it too.
var SecretNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// Redacted ends a URL whose credential a read path has cut off.
const Redacted = "…(redacted)"

// credentialHosts are webhook services whose URL path is the credential,
// by host and the path prefix of their webhooks ("": any path).
var credentialHosts = []struct{ host, path string }{
	{"hooks.slack.com", ""},
	{"discord.com", "/api/webhooks/"},
	{"discordapp.com", "/api/webhooks/"},
	{".webhook.office.com", ""}, // Microsoft Teams, by suffix
	{"outlook.office.com", "/webhook"},
}

// credentialParams are the words that make a query or fragment parameter
// a credential when its name contains one (api_key, access_token, sig, code
// of an Azure Function...). A false match only asks for a named secret.
var credentialParams = []string{"token", "key", "secret", "sig", "pass", "auth", "credential", "code"}

// SecretInURL says why a URL carries a credential ("" when it does not
// seem to): its host's webhooks are credentials, it has a user name or
// password, or a parameter named like a credential. A URL that does not
// parse is taken to carry one: nothing can tell.
func SecretInURL(raw string) string {
	if strings.Contains(raw, Redacted) {
		return "it was redacted when shown, its credential cut off"
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "it does not parse, so nothing can tell it carries no credential"
	}
	if u.User != nil {
		return "it carries a user name or password"
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	for _, c := range credentialHosts {
		matches := host == c.host || strings.HasPrefix(c.host, ".") && strings.HasSuffix(host, c.host)
		if matches && strings.HasPrefix(strings.ToLower(u.EscapedPath()), c.path) {
			return "the path of a " + host + " webhook is its credential"
		}
	}
	for _, part := range []string{u.RawQuery, u.Fragment} {
		for param := range strings.SplitSeq(part, "&") {
			name, _, _ := strings.Cut(param, "=")
			if n, err := url.QueryUnescape(name); err == nil {
				name = n
			}
			name = strings.ToLower(name)
			for _, word := range credentialParams {
				if strings.Contains(name, word) {
					return fmt.Sprintf("its parameter %q looks like a credential", name)
				}
			}
		}
	}
	return ""
}

// redactURL is a URL with a credential as read paths show it: its scheme
// and host, no more.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		scheme, _, _ := strings.Cut(raw, "://")
		return scheme + "://" + Redacted
	}
	return u.Scheme + "://" + u.Host + "/" + Redacted
}

// urlInText finds http(s) URLs in a definition's text, YAML or JSON alike.
// A JSON string may write & as \u0026 (Go does) and / as \/; a URL never
// swallows another escape, so cutting a match out leaves valid JSON.
var urlInText = regexp.MustCompile(`(?i)https?://(?:[^\s"'<>\\` + "`" + `]|\\u0026|\\/)+`)

var jsonEscapes = strings.NewReplacer(`\u0026`, "&", `\/`, "/")

// RedactSecrets is a definition's text (its YAML or JSON source, or its
// stored JSON) with every URL that carries a credential cut to its scheme
// and host, wherever it is: a notify step's url, a template, a message.
// Every path that shows a definition shows it through this.
func RedactSecrets(text string) string {
	if !strings.Contains(text, "://") {
		return text
	}
	return urlInText.ReplaceAllStringFunc(text, func(m string) string {
		if raw := jsonEscapes.Replace(m); SecretInURL(raw) != "" {
			return redactURL(raw)
		}
		return m
	})
}

// SecretNames are the secrets a definition's notify steps name, each once,
// in document order.
func (def *Definition) SecretNames() []string {
	var names []string
	seen := map[string]bool{}
	walkSteps("steps", def.Steps, func(_ string, s *Step) {
		if s.Notify != nil && s.Notify.Secret != "" && !seen[s.Notify.Secret] {
			seen[s.Notify.Secret] = true
			names = append(names, s.Notify.Secret)
		}
	})
	return names
}

// CheckSecrets verifies that every secret the notify steps name is stored;
// missing are the names that are not. Errors are at the steps; Locate gives
// them their lines.
func CheckSecrets(def *Definition, missing []string) error {
	if len(missing) == 0 {
		return nil
	}
	var errs Errors
	walkSteps("steps", def.Steps, func(p string, s *Step) {
		if s.Notify == nil || s.Notify.Secret == "" {
			return
		}
		for _, name := range missing {
			if s.Notify.Secret == name {
				errs.add(p+".notify.secret", 0, "no secret is named %q: an admin stores the webhook's URL under this name first (PUT /v1/secrets/%s)", name, name)
			}
		}
	})
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// notify checks a notify step: where it posts, by URL or by secret, and
// its message.
func (v *validator) notify(p string, n *Notify) {
	switch {
	case n.URL != "" && n.Secret != "":
		v.add(p+".secret", "give url or secret, not both")
	case n.Secret != "":
		v.pattern(p+".secret", n.Secret, SecretNamePattern, "a stored secret's name: lower-case letters, digits and '-', at most 63")
	case !v.text(p+".url", n.URL, "url, a webhook URL without a credential, or secret, the name of a stored one"):
	default:
		v.webhookURL(p+".url", n.URL)
	}
	v.template(p+".message", "", "message", n.Message, false)
}

// webhookURL refuses a URL that carries a credential, which everyone who
// reads the definition would see (the URL is never quoted back), then one
// the webhook guard refuses.
func (v *validator) webhookURL(p, raw string) {
	if u, err := url.Parse(raw); err == nil {
		if u.User != nil {
			// No webhook takes one, even from a secret: the guard refuses it at send time.
			v.add(p, "must not carry a user name or password: webhooks take none, and everyone who reads the definition would see them")
			return
		}
		if why := SecretInURL(raw); why != "" {
			v.add(p, "this URL carries a credential (%s): an admin stores it as a named secret (PUT /v1/secrets/{name}), "+
				"and the step names it with secret: <name> instead of url", why)
			return
		}
	}
	err := v.opts.Webhooks.CheckURL(raw)
	var blocked *netguard.BlockedError
	switch {
	case errors.As(err, &blocked) && blocked.Host != "":
		v.add(p, "%v; webhooks may reach public hosts only", err)
	case err != nil:
		v.add(p, "%v", err)
	}
}
