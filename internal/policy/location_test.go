package policy

import (
	"net/netip"
	"testing"
)

func TestLocate(t *testing.T) {
	yes := true
	c, err := Compile(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetLocations([]NamedLocation{
		{ODataType: ODataTypeIPNamedLocation, ID: "hq", IsTrusted: &yes, IPRanges: []IPRange{{CIDRAddress: "203.0.113.0/24"}, {CIDRAddress: "2001:db8::/32"}}},
		{ODataType: ODataTypeIPNamedLocation, ID: "lab", IPRanges: []IPRange{{CIDRAddress: "203.0.113.128/25"}}},
		{ODataType: ODataTypeCountryNamedLocation, ID: "de", CountriesAndRegions: []string{"DE"}},
	})
	for ip, want := range map[string]struct {
		ids     int
		trusted bool
	}{
		"203.0.113.5": {1, true}, "203.0.113.200": {2, true}, "::ffff:203.0.113.5": {1, true},
		"2001:db8::7": {1, true}, "198.51.100.1": {0, false},
	} {
		ids, trusted := c.Locate(netip.MustParseAddr(ip))
		if len(ids) != want.ids || trusted != want.trusted {
			t.Errorf("%s: %v %v", ip, ids, trusted)
		}
	}
}

func TestValidateNamedLocation(t *testing.T) {
	ok := NamedLocation{ODataType: ODataTypeIPNamedLocation, DisplayName: "HQ", IPRanges: []IPRange{{ODataType: ODataTypeIPv4CidrRange, CIDRAddress: "12.34.221.11/22"}}}
	if err := ValidateNamedLocation(ok); err != nil {
		t.Fatal(err)
	}
	wide := ok
	wide.IPRanges = []IPRange{{CIDRAddress: "0.0.0.0/0"}}
	if err := ValidateNamedLocation(wide); err == nil {
		t.Fatal("a /0 range was accepted")
	}
}
