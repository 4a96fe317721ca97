// Package netguard says which destinations outbound webhooks may reach: the
// one list of blocked address ranges and host names. It does no I/O, so the
// playbook validator can use it; the notify client's dialer applies the same
// checks to every address it actually connects to (activities).
package netguard

import (
	"net/netip"
	"net/url"
	"strings"
)

// Policy says where webhooks may go. The zero value is production's: https
// only, to public addresses only.
type Policy struct {
	// AllowHTTP permits plain http:// targets (development only).
	AllowHTTP bool
	// AllowLoopback permits loopback addresses and localhost names, for the
	// stand-in servers of tests and local development. Private, link-local
	// and metadata addresses stay refused.
	AllowLoopback bool
}

// BlockedError is a destination the policy refuses.
type BlockedError struct {
	Host   string // the host or address refused; empty when the URL as a whole is
	Reason string
}

func (e *BlockedError) Error() string {
	if e.Host == "" {
		return e.Reason
	}
	return e.Host + " is " + e.Reason
}

const reasonLoopback = "a loopback address"

// blocked are the ranges no webhook may reach, with why. Order matters: the
// first match names the reason, so the narrow metadata addresses come first.
var blocked = []struct {
	prefix netip.Prefix
	reason string
}{
	{netip.MustParsePrefix("169.254.169.254/32"), "a cloud metadata address"},
	{netip.MustParsePrefix("fd00:ec2::254/128"), "a cloud metadata address"},
	{netip.MustParsePrefix("0.0.0.0/8"), "an unspecified address"}, // 0.0.0.0 reaches this host
	{netip.MustParsePrefix("::/128"), "an unspecified address"},
	{netip.MustParsePrefix("127.0.0.0/8"), reasonLoopback},
	{netip.MustParsePrefix("::1/128"), reasonLoopback},
	{netip.MustParsePrefix("10.0.0.0/8"), "a private address (RFC 1918)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "a private address (RFC 1918)"},
	{netip.MustParsePrefix("192.168.0.0/16"), "a private address (RFC 1918)"},
	{netip.MustParsePrefix("fc00::/7"), "a private address (RFC 4193)"},
	{netip.MustParsePrefix("fec0::/10"), "a private address (site-local)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a shared carrier-grade NAT address (RFC 6598)"},
	{netip.MustParsePrefix("169.254.0.0/16"), "a link-local address"},
	{netip.MustParsePrefix("fe80::/10"), "a link-local address"},
	{netip.MustParsePrefix("224.0.0.0/4"), "a multicast address"},
	{netip.MustParsePrefix("ff00::/8"), "a multicast address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"}, // with 255.255.255.255
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a local NAT64 address (RFC 8215)"},
}

// embedsIPv4 are IPv6 forms that carry an IPv4 address in their last 32
// bits and may reach it: IPv4-compatible (::a.b.c.d) and NAT64 (RFC 6052).
// IPv4-mapped addresses (::ffff:a.b.c.d) are unmapped first.
var embedsIPv4 = []netip.Prefix{
	netip.MustParsePrefix("::/96"),
	netip.MustParsePrefix("64:ff9b::/96"),
}

// CheckAddr refuses an address in a blocked range.
func (p Policy) CheckAddr(a netip.Addr) error {
	if reason := p.addrReason(a); reason != "" {
		return &BlockedError{Host: a.String(), Reason: reason}
	}
	return nil
}

func (p Policy) addrReason(a netip.Addr) string {
	a = a.WithZone("").Unmap()
	if !a.IsValid() {
		return "not an IP address"
	}
	for _, b := range blocked {
		if b.prefix.Contains(a) {
			if b.reason == reasonLoopback && p.AllowLoopback {
				return ""
			}
			return b.reason
		}
	}
	for _, e := range embedsIPv4 {
		if e.Contains(a) {
			b := a.As16()
			if r := p.addrReason(netip.AddrFrom4([4]byte(b[12:]))); r != "" {
				return r + " in IPv6 form"
			}
		}
	}
	return ""
}

// CheckURL refuses a webhook URL the policy does not allow: another scheme
// than https (or http when allowed), a user name or password, a blocked
// address, a local host name or an IPv4 address in another spelling than
// a.b.c.d (resolvers read 2130706433 and 0177.0.0.1 as 127.0.0.1).
// Names are checked as written: the dialer checks what they resolve to.
func (p Policy) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return &BlockedError{Reason: "not an absolute URL with a host"}
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && p.AllowHTTP:
	case u.Scheme == "http":
		return &BlockedError{Reason: "plain http is not allowed: use https"}
	default:
		return &BlockedError{Reason: "want an https URL, got scheme " + u.Scheme}
	}
	if u.User != nil {
		return &BlockedError{Reason: "must not carry a user name or password"}
	}
	return p.CheckHost(u.Hostname())
}

// CheckHost refuses a host name or literal address the policy does not
// allow.
func (p Policy) CheckHost(host string) error {
	name := strings.TrimSuffix(strings.ToLower(host), ".")
	if name == "" {
		return &BlockedError{Reason: "not an absolute URL with a host"}
	}
	if a, err := netip.ParseAddr(name); err == nil {
		return p.CheckAddr(a)
	}
	reason := ""
	switch {
	case name == "localhost" || strings.HasSuffix(name, ".localhost"):
		if !p.AllowLoopback {
			reason = "a loopback name"
		}
	case name == "metadata.google.internal":
		reason = "a cloud metadata name"
	case strings.HasSuffix(name, ".internal"):
		reason = "a private-use name (.internal)"
	case numericIPv4(name):
		reason = "an IPv4 address in an unusual spelling: write it as a.b.c.d"
	}
	if reason != "" {
		return &BlockedError{Host: host, Reason: reason}
	}
	return nil
}

// numericIPv4 reports a name that C resolvers (inet_aton) read as an IPv4
// address: one to four parts, each decimal, octal (leading 0) or hex (0x).
// No real top-level domain is numeric, so nothing legitimate is refused.
func numericIPv4(name string) bool {
	parts := strings.Split(name, ".")
	if len(parts) > 4 {
		return false
	}
	for _, part := range parts {
		digits := part
		hex := strings.HasPrefix(part, "0x")
		if hex {
			digits = part[2:]
		}
		if digits == "" && !hex {
			return false
		}
		for _, r := range digits {
			if !('0' <= r && r <= '9' || hex && 'a' <= r && r <= 'f') {
				return false
			}
		}
	}
	return true
}
