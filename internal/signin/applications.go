package signin

// DefaultApplicationID is the lab portal itself: what a sign-in is for when
// the client names no application.
const DefaultApplicationID = "00000000-0000-0000-0000-00000000a001"

// AdminAPIApplicationID is Microsoft Graph's app id, the application the
// admin API imitates: exchanging a session for an admin token is a sign-in
// to it, so Conditional Access policies for Microsoft Graph apply.
const AdminAPIApplicationID = "00000003-0000-0000-c000-000000000000"

// Applications are the apps registered in the lab (id → display name).
// Conditional Access policies can include or exclude them by id.
var Applications = map[string]string{
	DefaultApplicationID:                   "rpserver lab portal",
	AdminAPIApplicationID:                  "Microsoft Graph",
	"00000003-0000-0ff1-ce00-000000000000": "Office 365 SharePoint Online",
	"00000002-0000-0ff1-ce00-000000000000": "Office 365 Exchange Online",
	"797f4846-ba00-4fd7-ba43-dac1f8f63013": "Azure Resource Manager",
	"0000000a-0000-0000-c000-000000000000": "Microsoft Intune",
}

// appDisplayName is the registered app's name when the sign-in came
// through the OpenID Connect provider, else the built-in name or the id.
func (f *flow) appDisplayName() string {
	if f.AppName != "" {
		return f.AppName
	}
	return appName(f.AppID)
}

func appName(id string) string {
	if n, ok := Applications[id]; ok {
		return n
	}
	return id
}

// clientAppUsed maps the CA client app type to the sign-in log's wording.
func clientAppUsed(t string) string {
	switch t {
	case "browser":
		return "Browser"
	case "mobileAppsAndDesktopClients":
		return "Mobile Apps and Desktop clients"
	case "exchangeActiveSync":
		return "Exchange ActiveSync"
	}
	return "Other clients"
}
