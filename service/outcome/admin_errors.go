package outcome

import "fmt"

// The outcomes of the Admin API's channel and role administration. Only the
// Admin API has members for the Outcomes here (its own test holds it to
// this file; the Shop API's test leaves the file out).

// LanguageNotAvailableError: a channel's default language is not one of
// its available languages. Vendure checks it against the languages of its
// GlobalSettings, which this server does not have; a channel's own
// availableLanguageCodes are the list here, so the message says so.
type LanguageNotAvailableError struct {
	LanguageCode string
}

func (e *LanguageNotAvailableError) Error() string {
	return fmt.Sprintf("Language %q is not available. First add it to the Channel's availableLanguageCodes and try again", e.LanguageCode)
}

func (*LanguageNotAvailableError) ErrorCode() string { return "LANGUAGE_NOT_AVAILABLE_ERROR" }

// NotDeletedError is a deletion that did not take place, for the reason
// its text gives: Vendure answers it as a DeletionResponse with result
// NOT_DELETED and that message, not as an error.
type NotDeletedError struct {
	Reason string
}

func (e *NotDeletedError) Error() string { return e.Reason }

// CannotModifyRoleError refuses a change to, or the deletion of, the
// built-in SuperAdmin and Customer roles, with Vendure's message. It is
// ErrCannotModifyRole and ErrInvalidInput (errors.Is): the GraphQL layer
// answers it as USER_INPUT_ERROR with its text, where Vendure sends an
// INTERNAL_SERVER_ERROR with the same text.
type CannotModifyRoleError struct {
	RoleCode string
	Deletion bool // the refused change is a deletion
}

func (e *CannotModifyRoleError) Error() string {
	if e.Deletion {
		return fmt.Sprintf("The role %q cannot be deleted", e.RoleCode)
	}
	return fmt.Sprintf("The role %q cannot be modified", e.RoleCode)
}

// Is makes the error ErrCannotModifyRole and ErrInvalidInput.
func (e *CannotModifyRoleError) Is(target error) bool {
	return target == ErrCannotModifyRole || target == ErrInvalidInput
}
