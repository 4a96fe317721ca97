// Package throttle slows down clients that keep failing to authenticate:
// one token bucket per client address, spent by failures only, so that a
// client is held back by its own failures and never by anyone else's.
//
// Buckets are kept in memory, per process: with N API replicas a client
// gets N buckets, which still bounds guessing to N times the rate.
package throttle

import (
	"container/list"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Options sets how many failures a client may make.
type Options struct {
	Every   time.Duration // one failure more is allowed after each Every
	Burst   int           // failures in a row before the client waits
	Clients int           // clients remembered at most (bounded memory)
}

// Default allows 20 failures in a row, then one every 6 s (10 a minute):
// plenty for people mistyping a key, hopeless for guessing one. Remembering
// 10,000 clients takes about 2 MB.
var Default = Options{Every: 6 * time.Second, Burst: 20, Clients: 10_000}

// Failures counts failed authentications by client.
type Failures struct {
	opts Options
	now  func() time.Time

	mu      sync.Mutex
	clients map[string]*list.Element // of *client
	recent  *list.List               // most recent failure first
}

type client struct {
	key    string
	bucket *rate.Limiter
}

// New makes an empty record of failures.
func New(o Options) *Failures {
	return &Failures{opts: o, now: time.Now, clients: map[string]*list.Element{}, recent: list.New()}
}

// Wait is how long a client must wait before it may try again: 0 when it
// may try now. It is asked before the credentials are checked, so that a
// throttled client learns nothing from its attempts.
func (f *Failures) Wait(addr string) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.clients[clientKey(addr)]
	if !ok {
		return 0
	}
	tokens := e.Value.(*client).bucket.TokensAt(f.now())
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) * float64(f.opts.Every))
}

// Fail records a failed authentication of a client. A failure always
// counts, even past the bucket's end: requests that passed Wait together
// and failed together are paid back in waiting.
func (f *Failures) Fail(addr string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	f.forgetIdle(now)
	key := clientKey(addr)
	e, ok := f.clients[key]
	if ok {
		f.recent.MoveToFront(e)
	} else {
		e = f.recent.PushFront(&client{key: key, bucket: rate.NewLimiter(rate.Every(f.opts.Every), f.opts.Burst)})
		f.clients[key] = e
		for f.recent.Len() > max(f.opts.Clients, 1) {
			f.remove(f.recent.Back())
		}
	}
	e.Value.(*client).bucket.ReserveN(now, 1)
}

// forgetIdle drops the clients, least recently failing first, whose bucket
// has filled up again: forgetting them changes nothing.
func (f *Failures) forgetIdle(now time.Time) {
	for e := f.recent.Back(); e != nil; e = f.recent.Back() {
		if e.Value.(*client).bucket.TokensAt(now) < float64(f.opts.Burst) {
			return
		}
		f.remove(e)
	}
}

func (f *Failures) remove(e *list.Element) {
	delete(f.clients, e.Value.(*client).key)
	f.recent.Remove(e)
}

// RetryAfter is a wait as a Retry-After header's value: whole seconds,
// rounded up.
func RetryAfter(wait time.Duration) string {
	return strconv.FormatInt(int64((wait+time.Second-1)/time.Second), 10)
}

// remembered is how many clients are remembered.
func (f *Failures) remembered() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.recent.Len()
}

// clientKey is the address a bucket belongs to: an IPv6 client is its /64,
// the block one host or one home is usually given, so that it cannot pick
// a fresh address for each attempt.
func clientKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	a = a.WithZone("").Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
