package policy

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Graph's namedLocation types (v1.0 CSDL: namedLocation, ipNamedLocation,
// countryNamedLocation, iPv4CidrRange, iPv6CidrRange).
const (
	ODataTypeIPNamedLocation      = "#microsoft.graph.ipNamedLocation"
	ODataTypeCountryNamedLocation = "#microsoft.graph.countryNamedLocation"
	ODataTypeIPv4CidrRange        = "#microsoft.graph.iPv4CidrRange"
	ODataTypeIPv6CidrRange        = "#microsoft.graph.iPv6CidrRange"
)

// countryLookupMethodType members (v1.0 CSDL).
var countryLookupMethods = []string{"clientIpAddress", "authenticatorAppGps", "unknownFutureValue"}

// Validation codes of named locations.
const (
	CodeInvalidNamedLocation = "invalidNamedLocation"
	CodeUnknownNamedLocation = "unknownNamedLocation"
	CodeNamedLocationInUse   = "namedLocationInUse"
)

// MaxIPRanges caps one location's ranges (Entra allows 2,000 per location).
const MaxIPRanges = 2000

// NamedLocation is Graph's namedLocation in one of its two concrete forms,
// told apart by ODataType; the other form's properties stay empty.
type NamedLocation struct {
	ODataType        string    `json:"@odata.type"`
	ID               string    `json:"id"`
	DisplayName      string    `json:"displayName"`
	CreatedDateTime  time.Time `json:"createdDateTime,omitzero"`
	ModifiedDateTime time.Time `json:"modifiedDateTime,omitzero"`

	// ipNamedLocation
	IPRanges  []IPRange `json:"ipRanges,omitempty"`
	IsTrusted *bool     `json:"isTrusted,omitempty"`

	// countryNamedLocation
	CountriesAndRegions               []string `json:"countriesAndRegions,omitempty"`
	IncludeUnknownCountriesAndRegions *bool    `json:"includeUnknownCountriesAndRegions,omitempty"`
	CountryLookupMethod               string   `json:"countryLookupMethod,omitempty"`
}

// IPRange is Graph's iPv4CidrRange or iPv6CidrRange.
type IPRange struct {
	ODataType   string `json:"@odata.type"`
	CIDRAddress string `json:"cidrAddress"`
}

// IsIP reports whether the location is an ipNamedLocation.
func (l NamedLocation) IsIP() bool { return strings.EqualFold(l.ODataType, ODataTypeIPNamedLocation) }

// Normalize fills Graph's defaults so stored documents read back as Graph
// returns them.
func (l *NamedLocation) Normalize() {
	f := false
	if l.IsIP() {
		l.ODataType = ODataTypeIPNamedLocation
		if l.IsTrusted == nil {
			l.IsTrusted = &f
		}
		for i := range l.IPRanges {
			if p, err := netip.ParsePrefix(strings.TrimSpace(l.IPRanges[i].CIDRAddress)); err == nil {
				l.IPRanges[i].CIDRAddress = p.String()
				if l.IPRanges[i].ODataType == "" {
					l.IPRanges[i].ODataType = map[bool]string{true: ODataTypeIPv4CidrRange, false: ODataTypeIPv6CidrRange}[p.Addr().Is4()]
				}
			}
		}
		return
	}
	l.ODataType = ODataTypeCountryNamedLocation
	if l.IncludeUnknownCountriesAndRegions == nil {
		l.IncludeUnknownCountriesAndRegions = &f
	}
	if l.CountryLookupMethod == "" {
		l.CountryLookupMethod = "clientIpAddress"
	}
	if l.CountriesAndRegions == nil {
		l.CountriesAndRegions = []string{}
	}
}

// ValidateNamedLocation checks a location as Graph does: a display name,
// ranges in CIDR form of the family their @odata.type names, two-letter
// country codes, and no property of the other form.
func ValidateNamedLocation(l NamedLocation) error {
	var errs ValidationErrors
	if strings.TrimSpace(l.DisplayName) == "" || len(l.DisplayName) > 256 {
		errs.add(CodeInvalidNamedLocation, "displayName", "displayName is required, at most 256 characters")
	}
	switch {
	case l.IsIP():
		if len(l.CountriesAndRegions) > 0 || l.IncludeUnknownCountriesAndRegions != nil || l.CountryLookupMethod != "" {
			errs.add(CodeInvalidNamedLocation, "countriesAndRegions", "an ipNamedLocation has no country properties")
		}
		if len(l.IPRanges) == 0 || len(l.IPRanges) > MaxIPRanges {
			errs.add(CodeInvalidNamedLocation, "ipRanges", "an ipNamedLocation needs 1 to 2000 ipRanges")
		}
		for i, r := range l.IPRanges {
			p, err := netip.ParsePrefix(strings.TrimSpace(r.CIDRAddress))
			target := "ipRanges[" + strconv.Itoa(i) + "].cidrAddress"
			switch {
			case err != nil:
				errs.add(CodeInvalidNamedLocation, target, "\""+r.CIDRAddress+"\" is not an address range in CIDR form such as 203.0.113.0/24")
			case r.ODataType != "" && !strings.EqualFold(r.ODataType, map[bool]string{true: ODataTypeIPv4CidrRange, false: ODataTypeIPv6CidrRange}[p.Addr().Is4()]):
				errs.add(CodeInvalidNamedLocation, target, "the range's family does not match its @odata.type "+r.ODataType)
			case p.Addr().Is4() && p.Bits() < 8:
				// Entra refuses ranges wider than /8.
				errs.add(CodeInvalidNamedLocation, target, "IPv4 ranges must be /8 or narrower")
			}
		}
	case strings.EqualFold(l.ODataType, ODataTypeCountryNamedLocation):
		if len(l.IPRanges) > 0 || l.IsTrusted != nil {
			errs.add(CodeInvalidNamedLocation, "ipRanges", "a countryNamedLocation has no ipRanges or isTrusted")
		}
		for i, c := range l.CountriesAndRegions {
			if len(c) != 2 || strings.ToUpper(c) != c {
				errs.add(CodeInvalidNamedLocation, "countriesAndRegions["+itoa(i)+"]", "\""+c+"\" is not a two-letter ISO 3166 country code such as DE")
			}
		}
		if l.CountryLookupMethod != "" && !slices.Contains(countryLookupMethods, l.CountryLookupMethod) {
			errs.add(CodeInvalidNamedLocation, "countryLookupMethod", "countryLookupMethod is clientIpAddress or authenticatorAppGps")
		}
		if len(l.CountriesAndRegions) == 0 && (l.IncludeUnknownCountriesAndRegions == nil || !*l.IncludeUnknownCountriesAndRegions) {
			errs.add(CodeInvalidNamedLocation, "countriesAndRegions", "a countryNamedLocation needs countries or includeUnknownCountriesAndRegions")
		}
	default:
		errs.add(CodeInvalidNamedLocation, "@odata.type", "@odata.type must be #microsoft.graph.ipNamedLocation or #microsoft.graph.countryNamedLocation")
	}
	return errs.err()
}

// compiledLocation is a location ready for address matching.
type compiledLocation struct {
	id       string
	prefixes []netip.Prefix
	trusted  bool
	// unknownCountry: a country location that includes unknown countries
	// matches every address, since the lab resolves no address to a
	// country (it ships no geolocation data).
	unknownCountry bool
}

// SetLocations gives the compiled policies the named locations sign-ins are
// matched against.
func (c *CompiledPolicies) SetLocations(locs []NamedLocation) {
	c.locations = make([]compiledLocation, 0, len(locs))
	for _, l := range locs {
		cl := compiledLocation{id: l.ID}
		if l.IsIP() {
			cl.trusted = l.IsTrusted != nil && *l.IsTrusted
			for _, r := range l.IPRanges {
				if p, err := netip.ParsePrefix(strings.TrimSpace(r.CIDRAddress)); err == nil {
					cl.prefixes = append(cl.prefixes, p.Masked())
				}
			}
		} else {
			cl.unknownCountry = l.IncludeUnknownCountriesAndRegions != nil && *l.IncludeUnknownCountriesAndRegions
		}
		c.locations = append(c.locations, cl)
	}
}

// Locate names the locations an address falls in and whether one of them
// is trusted (Graph's isTrusted; "AllTrusted" in policies).
func (c *CompiledPolicies) Locate(ip netip.Addr) (ids []string, trusted bool) {
	if !ip.IsValid() {
		return nil, false
	}
	ip = ip.Unmap()
	for _, l := range c.locations {
		in := l.unknownCountry
		for _, p := range l.prefixes {
			if p.Contains(ip) {
				in = true
				break
			}
		}
		if in {
			ids = append(ids, l.id)
			trusted = trusted || l.trusted
		}
	}
	return ids, trusted
}
