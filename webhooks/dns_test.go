package webhooks_test

import (
	"context"
	"net"
	"net/netip"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// startDNS serves a test's DNS answers on a loopback UDP port and returns
// a resolver that asks it (for Guard.UseResolver). Each question gets the
// address answer(q) returns when it is of the question's family (an A
// record for IPv4, AAAA for IPv6), else no record. answer is called once
// per question, from one goroutine at a time; a resolver asks A and AAAA
// for each look-up.
func startDNS(t *testing.T, answer func(q dnsmessage.Question) netip.Addr) *net.Resolver {
	t.Helper()
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(t.Context(), "udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if reply := dnsReply(buf[:n], answer); reply != nil {
				_, _ = pc.WriteTo(reply, from)
			}
		}
	}()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", pc.LocalAddr().String())
	}}
}

func dnsReply(query []byte, answer func(q dnsmessage.Question) netip.Addr) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true})
	_ = b.StartQuestions()
	_ = b.Question(q)
	_ = b.StartAnswers()
	rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 0}
	switch a := answer(q); {
	case q.Type == dnsmessage.TypeA && a.Is4():
		_ = b.AResource(rh, dnsmessage.AResource{A: a.As4()})
	case q.Type == dnsmessage.TypeAAAA && a.Is6():
		_ = b.AAAAResource(rh, dnsmessage.AAAAResource{AAAA: a.As16()})
	}
	out, _ := b.Finish()
	return out
}
