// Package useragent reads the browser and operating system out of an HTTP
// User-Agent header, for Graph's signIn.deviceDetail. It is a deliberately
// small parser for the browsers and systems an Entra sign-in log shows
// (Edge, Chrome, Firefox, Safari, Opera, Samsung Internet; Windows, macOS,
// iOS, Android, ChromeOS, Linux), not a device database: it runs on the
// sign-in hot path, so it does no I/O and allocates at most the browser
// string (name and version).
package useragent

import "strings"

// MaxLen bounds the User-Agent a sign-in record keeps (and parses): the
// header is client-chosen, and RFC 9110 sets no limit.
const MaxLen = 512

// Device is what a User-Agent says about the client.
type Device struct {
	// Browser is the name and version as Entra's sign-in log writes it,
	// e.g. "Chrome 131.0.6778", "Edge 131.0.2903", "Safari 18.1"; "" when
	// the client is no browser the parser knows (curl, an SDK).
	Browser string
	// OperatingSystem uses the sign-in log's wording: Windows10, Windows81,
	// Windows8, Windows7, Windows, MacOs, Ios, Android, ChromeOS, Linux; ""
	// when unknown.
	OperatingSystem string
}

// Truncate caps ua at MaxLen bytes (a whole-string cut; the header is ASCII
// in practice, and a cut multi-byte rune only costs a replacement mark).
func Truncate(ua string) string {
	if len(ua) > MaxLen {
		return ua[:MaxLen]
	}
	return ua
}

// browsers are tried in order: most browsers also claim to be the ones
// before them (Edge says Chrome and Safari, Chrome says Safari), so the
// most specific token comes first.
var browsers = [...]struct{ token, name string }{
	{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"EdgiOS/", "Edge"}, {"Edge/", "Edge"},
	{"OPR/", "Opera"}, {"SamsungBrowser/", "Samsung Internet"},
	{"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"},
	{"CriOS/", "Chrome"}, {"HeadlessChrome/", "Chrome"}, {"Chrome/", "Chrome"},
}

// Parse reads ua (see Device).
func Parse(ua string) Device {
	ua = Truncate(ua)
	return Device{Browser: browser(ua), OperatingSystem: operatingSystem(ua)}
}

func browser(ua string) string {
	for _, b := range browsers {
		if i := strings.Index(ua, b.token); i >= 0 {
			return named(b.name, ua[i+len(b.token):])
		}
	}
	if strings.Contains(ua, "Safari/") {
		// Safari's own version is in Version/, its Safari/ token is WebKit's.
		if i := strings.Index(ua, "Version/"); i >= 0 {
			return named("Safari", ua[i+len("Version/"):])
		}
		return "Safari"
	}
	if strings.Contains(ua, "Trident/") || strings.Contains(ua, "MSIE ") {
		return "IE"
	}
	return ""
}

// named is "name version", the version cut to at most three dot-separated
// parts (Chrome's fourth is a build patch nobody filters on).
func named(name, rest string) string {
	end, dots := 0, 0
	for end < len(rest) {
		c := rest[end]
		if c == '.' {
			if dots == 2 {
				break
			}
			dots++
		} else if c < '0' || c > '9' {
			break
		}
		end++
	}
	v := strings.TrimSuffix(rest[:end], ".")
	if v == "" {
		return name
	}
	return name + " " + v
}

func operatingSystem(ua string) string {
	switch {
	case strings.Contains(ua, "Windows NT 10.0"):
		return "Windows10" // Windows 11 reports 10.0 too
	case strings.Contains(ua, "Windows NT 6.3"):
		return "Windows81"
	case strings.Contains(ua, "Windows NT 6.2"):
		return "Windows8"
	case strings.Contains(ua, "Windows NT 6.1"):
		return "Windows7"
	case strings.Contains(ua, "Windows"):
		return "Windows"
	// iOS claims "like Mac OS X" and Android claims Linux: check them first.
	case strings.Contains(ua, "iPhone"), strings.Contains(ua, "iPad"), strings.Contains(ua, "iPod"):
		return "Ios"
	case strings.Contains(ua, "Android"):
		return "Android"
	case strings.Contains(ua, "CrOS"):
		return "ChromeOS"
	case strings.Contains(ua, "Macintosh"), strings.Contains(ua, "Mac OS X"):
		return "MacOs"
	case strings.Contains(ua, "Linux"):
		return "Linux"
	}
	return ""
}
