package outcome

// The outcomes both APIs have members for: each API's test holds its
// mapping to this file as well as to its own.

// EmailAddressConflictError: the e-mail address is another customer's.
// The Admin API's createCustomer and updateCustomer return it (Vendure's
// CreateCustomerResult and UpdateCustomerResult). It is also a member of
// the Shop API's SetCustomerForOrderResult, where SetCustomerForOrder
// never returns it: a registered address gets the same answer as an
// unknown one.
type EmailAddressConflictError struct{}

func (*EmailAddressConflictError) Error() string { return "The email address is not available." }

func (*EmailAddressConflictError) ErrorCode() string { return "EMAIL_ADDRESS_CONFLICT_ERROR" }
