package auth

import "slices"

// AnyOf reports whether granted holds at least one of required.
func AnyOf(granted Granted, required []Permission) bool {
	return slices.ContainsFunc(required, granted.Has)
}

// Decision is the outcome of checking a root field's @allow list.
type Decision int

// Decisions.
const (
	// Denied: the caller may not run the field.
	Denied Decision = iota
	// Allowed: the field is public, or the caller holds a listed permission.
	Allowed
	// AllowedAsOwner: the caller passes only because the list has Owner; the
	// resolver must check ownership.
	AllowedAsOwner
)

// Decide applies Vendure's @Allow rule: Public lets everyone through; holding
// any listed permission on the channel authorizes; otherwise Owner in the list
// lets the caller through as owner-only.
func Decide(granted Granted, required []Permission) Decision {
	if len(required) == 0 || slices.Contains(required, Public) {
		return Allowed
	}
	if AnyOf(granted, required) {
		return Allowed
	}
	if slices.Contains(required, Owner) {
		return AllowedAsOwner
	}
	return Denied
}
