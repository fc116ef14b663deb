package ceremony

import (
	"context"

	"github.com/rpserver/rpserver/internal/directory"
)

// DirectoryUsers adapts the directory to what the ceremony needs.
type DirectoryUsers struct{ Store directory.Store }

func (d DirectoryUsers) UserByID(ctx context.Context, id string) (UserInfo, error) {
	u, err := d.Store.GetUser(ctx, id)
	return info(u), err
}

func (d DirectoryUsers) UserByName(ctx context.Context, upn string) (UserInfo, error) {
	u, err := d.Store.GetUserByUPN(ctx, upn)
	return info(u), err
}

func info(u directory.User) UserInfo {
	return UserInfo{ID: u.ID, Name: u.UserPrincipalName, DisplayName: u.DisplayName, Enabled: u.AccountEnabled}
}
