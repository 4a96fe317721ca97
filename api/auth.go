package api

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/internal/app"
	"github.com/playbookd/playbookd/internal/throttle"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/team"
)

// authenticator knows who is calling from "Authorization: Bearer <key>":
// PLAYBOOKD_ADMIN_KEY, or a key made with POST /v1/keys.
type authenticator struct {
	adminKey string
	keys     app.KeyLookup
	failures app.Throttle
}

// adminKeyCaller is how audit columns name PLAYBOOKD_ADMIN_KEY.
const adminKeyCaller = "PLAYBOOKD_ADMIN_KEY"

// actor is who is calling, and the key as audit columns name it. A client
// that has failed too often is refused before its key is looked at, so
// that a throttled client learns nothing from its attempts; a missing or
// unknown key counts as a failure, a key of the wrong role does not.
func (a authenticator) actor(c echo.Context) (team.Actor, string, error) {
	client := c.RealIP()
	if wait := a.failures.Wait(client); wait > 0 {
		c.Response().Header().Set(echo.HeaderRetryAfter, throttle.RetryAfter(wait))
		return team.Actor{}, "", problem(http.StatusTooManyRequests,
			fmt.Sprintf("too many failed authentications from this address: try again in %s s", throttle.RetryAfter(wait)))
	}
	// The scheme is case-insensitive (RFC 9110 §11.1).
	scheme, secret, ok := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
	switch {
	case !ok || !strings.EqualFold(scheme, "Bearer") || secret == "":
		a.failures.Fail(client)
		return team.Actor{}, "", unauthorized(c)
	case subtle.ConstantTimeCompare([]byte(secret), []byte(a.adminKey)) == 1:
		return team.Actor{Role: team.RoleAdmin}, adminKeyCaller, nil
	}
	k, err := a.keys.LookupAPIKey(c.Request().Context(), secret)
	if errors.Is(err, store.ErrUnknownKey) {
		a.failures.Fail(client)
		return team.Actor{}, "", unauthorized(c)
	}
	if err != nil {
		return team.Actor{}, "", err
	}
	who := team.Actor{Role: k.Role}
	if k.MemberEmail != nil {
		who.Email = *k.MemberEmail
	}
	return who, fmt.Sprintf("key %s… (%s)", k.Prefix, k.Name), nil
}

func unauthorized(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="playbookd"`)
	return problem(http.StatusUnauthorized, "send Authorization: Bearer <API key>")
}

// access is who may call a route: the roles of the keys it takes, or no key
// at all (public).
type access struct{ roles []string }

// allow takes keys of these roles.
func allow(roles ...string) access { return access{roles: roles} }

// public takes no key: its handler checks what it is sent (a signed link, a
// signed batch) or it tells nothing (health, the document).
var public = access{}

func (a access) isPublic() bool { return len(a.roles) == 0 }

// require answers 401 without a valid key and 403 for a key of another
// role; the handler gets the caller through actorOf.
func (a authenticator) require(acc access) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			who, caller, err := a.actor(c)
			if err != nil {
				return err
			}
			if !slices.Contains(acc.roles, who.Role) {
				return problem(http.StatusForbidden, fmt.Sprintf("a %s key may not %s %s: it takes %s keys",
					who.Role, c.Request().Method, c.Path(), strings.Join(acc.roles, " or ")))
			}
			c.Set(actorKey, who)
			c.Set(callerKey, caller)
			return next(c)
		}
	}
}

const (
	actorKey  = "actor"
	callerKey = "caller"
)

// actorOf is who is calling a route that takes a key.
func actorOf(c echo.Context) team.Actor {
	who, _ := c.Get(actorKey).(team.Actor)
	return who
}

// callerOf is the key calling a route, as audit columns name it: never
// the secret, only its prefix and name.
func callerOf(c echo.Context) string {
	caller, _ := c.Get(callerKey).(string)
	return caller
}
