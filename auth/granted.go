package auth

import "slices"

// Granted is a read-only list of the permissions a user holds on a channel.
// Its list is private, so a Granted shared between requests (the session
// cache hands the same one to every request of every session with the same
// permissions) cannot be changed through it by accident. The zero value
// holds nothing.
type Granted struct {
	list []Permission
}

// Grant returns a Granted holding a copy of list, in its order. A nil list
// stays nil and an empty one empty (List tells them apart), so a cache that
// stores a Granted gives back what it was given.
func Grant(list []Permission) Granted {
	if list == nil {
		return Granted{}
	}
	return Granted{list: slices.Clone(list)}
}

// Has reports whether p is granted.
func (g Granted) Has(p Permission) bool { return slices.Contains(g.list, p) }

// Len returns the number of permissions granted.
func (g Granted) Len() int { return len(g.list) }

// List returns a copy of the permissions, in order: nil if the Granted was
// made from a nil list, non-nil (possibly empty) otherwise.
func (g Granted) List() []Permission {
	if g.list == nil {
		return nil
	}
	return slices.Clone(g.list)
}

// Equal reports whether g and o hold the same permissions in the same order.
func (g Granted) Equal(o Granted) bool { return slices.Equal(g.list, o.list) }
