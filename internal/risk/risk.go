package risk

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/rpserver/rpserver/internal/apperr"
	"github.com/rpserver/rpserver/internal/audit"
	"github.com/rpserver/rpserver/internal/directory"
	"github.com/rpserver/rpserver/internal/ids"
)

// RiskyUser is Graph's riskyUser.
type RiskyUser struct {
	ID                      string    `json:"id"` // the user's id
	UserPrincipalName       string    `json:"userPrincipalName"`
	UserDisplayName         string    `json:"userDisplayName"`
	RiskLevel               string    `json:"riskLevel"`  // low, medium, high, hidden, none
	RiskState               string    `json:"riskState"`  // atRisk, confirmedCompromised, dismissed, remediated, none
	RiskDetail              string    `json:"riskDetail"` // Graph's riskDetail: why the state is what it is
	RiskLastUpdatedDateTime time.Time `json:"riskLastUpdatedDateTime"`
	IsDeleted               bool      `json:"isDeleted"`
	IsProcessing            bool      `json:"isProcessing"`
}

// Risk levels and states (Graph's riskLevel and riskState).
const (
	LevelLow    = "low"
	LevelMedium = "medium"
	LevelHigh   = "high"
	LevelHidden = "hidden"
	LevelNone   = "none"

	StateAtRisk               = "atRisk"
	StateConfirmedCompromised = "confirmedCompromised"
	StateDismissed            = "dismissed"
	StateRemediated           = "remediated"
	StateNone                 = "none"
)

// Stable codes.
const (
	CodeInvalidRiskLevel = "invalidRiskLevel"
	CodeInvalidUserIDs   = "invalidUserIds"
)

// MaxUserIDs is how many users one dismiss or confirmCompromised call may
// name (Graph's limit).
const MaxUserIDs = 60

// Change is what an action writes to each named user's record (and its
// history). InitiatedBy is the acting admin's object id (or app id).
type Change struct {
	RiskLevel, RiskState, RiskDetail string
	At                               time.Time
	InitiatedBy                      string
}

// HistoryItem is Graph's riskyUserHistoryItem (v1.0 CSDL: riskyUser's
// properties plus activity, initiatedBy, userId): the state one change
// left.
type HistoryItem struct {
	ID                      string       `json:"id"`
	UserID                  string       `json:"userId"`
	UserPrincipalName       string       `json:"userPrincipalName"`
	UserDisplayName         string       `json:"userDisplayName"`
	RiskLevel               string       `json:"riskLevel"`
	RiskState               string       `json:"riskState"`
	RiskDetail              string       `json:"riskDetail"`
	RiskLastUpdatedDateTime time.Time    `json:"riskLastUpdatedDateTime"`
	IsDeleted               bool         `json:"isDeleted"`
	IsProcessing            bool         `json:"isProcessing"`
	InitiatedBy             string       `json:"initiatedBy"`
	Activity                UserActivity `json:"activity"`
}

// UserActivity is Graph's riskUserActivity: the change's riskDetail and
// the detections behind it, which the lab has none of ([]).
type UserActivity struct {
	Detail         string   `json:"detail"`
	RiskEventTypes []string `json:"riskEventTypes"`
}

// MaxHistory is how many history items the store reads at a time (newest
// first), and the page size when the client asks for none.
const MaxHistory = 500

// historyWindows bounds the windows of MaxHistory items one call scans
// for a filter: a call whose filter matches little ends with a short page
// and a cursor rather than reading a long history to its end.
const historyWindows = 4

// HistoryCursor continues a user's history after an item: keyset paging on
// (riskLastUpdatedDateTime, id), as the sign-in log pages, so a page stays
// stable while new changes arrive at the head.
type HistoryCursor struct {
	Time time.Time
	ID   string
}

// Encode renders the cursor as an opaque $skiptoken.
func (c HistoryCursor) Encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.Time.UTC().Format(time.RFC3339Nano) + "|" + c.ID))
}

// DecodeHistoryCursor reads a $skiptoken made by Encode; ok is false for
// any other text.
func DecodeHistoryCursor(token string) (c HistoryCursor, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return c, false
	}
	ts, id, found := strings.Cut(string(raw), "|")
	t, err := time.Parse(time.RFC3339Nano, ts)
	if !found || err != nil || !ids.Valid(id) {
		return c, false
	}
	return HistoryCursor{Time: t, ID: strings.ToLower(id)}, true
}

// Store persists risky users.
type Store interface {
	// Get returns the user's risk record; NotFound when the user never had one.
	Get(ctx context.Context, userID string) (RiskyUser, error)
	// List returns the records matching q, in id order after q.After or in
	// q.OrderBy from q.Offset.
	List(ctx context.Context, q directory.Query) ([]RiskyUser, error)
	// Apply writes c to every user in one transaction, creating records as
	// needed; NotFound (and no change at all) when a user does not exist.
	Apply(ctx context.Context, userIDs []string, c Change) error
	// UserRisk is Checker.UserRisk.
	UserRisk(ctx context.Context, userID string) (string, error)
	// History lists the user's risk changes, newest first; HistoryItem
	// reads one (NotFound for another user's id).
	History(ctx context.Context, userID string, after *HistoryCursor, limit int) ([]HistoryItem, error)
	HistoryItem(ctx context.Context, userID, id string) (HistoryItem, error)
}

// Checker is what the sign-in flow asks before Conditional Access: the
// user's current risk level, "none" (or "") when not at risk. Dismissed and
// remediated users are "none"; confirmedCompromised users are "high".
type Checker interface {
	UserRisk(ctx context.Context, userID string) (riskLevel string, err error)
}

// Service validates administrator actions and applies them through Store.
type Service struct {
	Store Store
	Now   func() time.Time // default time.Now
}

var _ Checker = (*Service)(nil)

// UserRisk implements Checker.
func (s *Service) UserRisk(ctx context.Context, userID string) (string, error) {
	return s.Store.UserRisk(ctx, userID)
}

// Dismiss is Graph's riskyUsers/dismiss: the risk is set aside
// (riskState dismissed, riskLevel none).
func (s *Service) Dismiss(ctx context.Context, userIDs []string) error {
	return s.apply(ctx, userIDs, LevelNone, StateDismissed, "adminDismissedAllRiskForUser")
}

// ConfirmCompromised is Graph's riskyUsers/confirmCompromised
// (riskState confirmedCompromised, riskLevel high).
func (s *Service) ConfirmCompromised(ctx context.Context, userIDs []string) error {
	return s.apply(ctx, userIDs, LevelHigh, StateConfirmedCompromised, "adminConfirmedUserCompromised")
}

// SetRiskLevel is the lab's stand-in for a risk detection, which Graph
// cannot trigger: low, medium or high put the user at risk; none clears it
// (riskState remediated, as when a user resolves their own risk).
func (s *Service) SetRiskLevel(ctx context.Context, userID, level string) (RiskyUser, error) {
	if err := directory.ValidateID(userID); err != nil {
		return RiskyUser{}, err
	}
	var err error
	switch level {
	case LevelLow, LevelMedium, LevelHigh:
		err = s.apply(ctx, []string{userID}, level, StateAtRisk, "none")
	case LevelNone:
		err = s.apply(ctx, []string{userID}, LevelNone, StateRemediated, "none")
	default:
		return RiskyUser{}, apperr.Invalid(CodeInvalidRiskLevel, "riskLevel must be low, medium, high or none, not %q", level).WithTarget("riskLevel")
	}
	if err != nil {
		return RiskyUser{}, err
	}
	return s.Store.Get(ctx, userID)
}

func (s *Service) apply(ctx context.Context, userIDs []string, level, state, detail string) error {
	ids, err := validateUserIDs(userIDs)
	if err != nil {
		return err
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	return s.Store.Apply(ctx, ids, Change{RiskLevel: level, RiskState: state, RiskDetail: detail, At: now().UTC(), InitiatedBy: initiator(ctx)})
}

// initiator is the acting admin's object id (or the app's id) from the
// request's audit actor, Graph's initiatedBy.
func initiator(ctx context.Context) string {
	raw, _, ok := audit.FromContext(ctx)
	if !ok {
		return ""
	}
	var a audit.Actor
	if json.Unmarshal([]byte(raw), &a) != nil {
		return ""
	}
	switch {
	case a.User != nil:
		return a.User.ID
	case a.App != nil:
		return a.App.AppID
	}
	return ""
}

// History is GET /identityProtection/riskyUsers/{id}/history: the user's
// risk changes, newest first, each with its activity; at most top of those
// match accepts (nil: all), after the cursor (nil: from the newest). next
// is set while older items remain, and the page may be short of top when
// the filter matched little of the items scanned.
func (s *Service) History(ctx context.Context, userID string, after *HistoryCursor, top int, match func(HistoryItem) (bool, error)) (page []HistoryItem, next *HistoryCursor, err error) {
	if err := directory.ValidateID(userID); err != nil {
		return nil, nil, err
	}
	if _, err := s.Store.Get(ctx, userID); err != nil {
		return nil, nil, err // 404 for a user never at risk, as the riskyUser itself
	}
	if top <= 0 {
		top = MaxHistory
	}
	page = []HistoryItem{}
	for range historyWindows {
		window, err := s.Store.History(ctx, userID, after, MaxHistory)
		if err != nil {
			return nil, nil, err
		}
		for i := range window {
			h := &window[i]
			h.Activity = activityOf(*h)
			if match != nil {
				ok, err := match(*h)
				if err != nil {
					return nil, nil, err
				}
				if !ok {
					continue
				}
			}
			page = append(page, *h)
			if len(page) == top {
				if i == len(window)-1 && len(window) < MaxHistory {
					return page, nil, nil // that was the oldest
				}
				return page, &HistoryCursor{Time: h.RiskLastUpdatedDateTime, ID: h.ID}, nil
			}
		}
		if len(window) < MaxHistory {
			return page, nil, nil
		}
		last := window[len(window)-1]
		after = &HistoryCursor{Time: last.RiskLastUpdatedDateTime, ID: last.ID}
	}
	return page, after, nil
}

// HistoryItem is one item of History.
func (s *Service) HistoryItem(ctx context.Context, userID, id string) (HistoryItem, error) {
	if err := directory.ValidateID(userID); err != nil {
		return HistoryItem{}, err
	}
	if err := directory.ValidateID(id); err != nil {
		return HistoryItem{}, err
	}
	h, err := s.Store.HistoryItem(ctx, userID, id)
	h.Activity = activityOf(h)
	return h, err
}

func activityOf(h HistoryItem) UserActivity {
	return UserActivity{Detail: h.RiskDetail, RiskEventTypes: []string{}}
}

// validateUserIDs checks the list and removes repeats.
func validateUserIDs(ids []string) ([]string, error) {
	if len(ids) == 0 || len(ids) > MaxUserIDs {
		return nil, apperr.Invalid(CodeInvalidUserIDs, "userIds must name 1 to %d users, not %d", MaxUserIDs, len(ids)).WithTarget("userIds")
	}
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if err := directory.ValidateID(id); err != nil {
			return nil, apperr.Invalid(directory.CodeInvalidID, "userIds: %q is not a valid object id (a GUID)", id).WithTarget("userIds")
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}
