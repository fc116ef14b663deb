package useragent

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, ua, browser, os string
	}{
		{"chrome windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.86 Safari/537.36", "Chrome 131.0.6778", "Windows10"},
		{"edge windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70", "Edge 131.0.2903", "Windows10"},
		{"firefox mac", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox 133.0", "MacOs"},
		{"safari mac", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", "Safari 18.1", "MacOs"},
		{"safari iphone", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "Safari 18.1", "Ios"},
		{"chrome ios", "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1", "Chrome 131.0.6778", "Ios"},
		{"edge ios", "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) EdgiOS/131.2903.68 Version/18.0 Mobile/15E148 Safari/604.1", "Edge 131.2903.68", "Ios"},
		{"chrome android", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "Chrome 131.0.0", "Android"},
		{"samsung android", "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36", "Samsung Internet 26.0", "Android"},
		{"firefox linux", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox 133.0", "Linux"},
		{"headless chromium", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.6778.85 Safari/537.36", "Chrome 131.0.6778", "Linux"},
		{"opera", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0", "Opera 115.0.0", "Windows10"},
		{"chromeos", "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome 131.0.0", "ChromeOS"},
		{"ie11 windows 7", "Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko", "IE", "Windows7"},
		{"windows 8.1", "Mozilla/5.0 (Windows NT 6.3; Win64; x64) Gecko/20100101 Firefox/115.0", "Firefox 115.0", "Windows81"},
		{"curl", "curl/8.5.0", "", ""},
		{"go sdk", "Go-http-client/1.1", "", ""},
		{"empty", "", "", ""},
		{"token without version", "Mozilla/5.0 (X11; Linux x86_64) Chrome/ Safari/537.36", "Chrome", "Linux"},
		{"trailing dot", "Mozilla/5.0 (Macintosh) Firefox/133.", "Firefox 133", "MacOs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Parse(tc.ua)
			if got.Browser != tc.browser || got.OperatingSystem != tc.os {
				t.Errorf("Parse(%q) = %+v, want browser %q os %q", tc.ua, got, tc.browser, tc.os)
			}
		})
	}
}

func TestParseBoundsInput(t *testing.T) {
	// A token past MaxLen is not read: the header is client-chosen.
	ua := strings.Repeat("x", MaxLen) + " Chrome/1.2.3 (Windows NT 10.0)"
	if got := Parse(ua); got != (Device{}) {
		t.Errorf("Parse read past MaxLen: %+v", got)
	}
	if got := Truncate(ua); len(got) != MaxLen {
		t.Errorf("Truncate kept %d bytes", len(got))
	}
}

func TestParseAllocatesOnlyTheBrowserString(t *testing.T) {
	ua := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.86 Safari/537.36"
	if n := testing.AllocsPerRun(100, func() { _ = Parse(ua) }); n > 1 {
		t.Errorf("Parse allocates %v times, want at most 1", n)
	}
}

func BenchmarkParse(b *testing.B) {
	ua := "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70"
	b.ReportAllocs()
	for range b.N {
		_ = Parse(ua)
	}
}
