package account

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/shopsession/sessionserver/service/outcome"
)

// The rules for the text fields of a customer, in one place: registration,
// updateCustomer and guest checkout (setCustomerForOrder) apply them
// through CheckFields, so a field accepted by one is accepted by all.
//
//   - every field: at most MaxFieldLength characters (Vendure's columns are
//     varchar(255)), no control characters (NUL, line breaks, tabs, C1);
//   - emailAddress (normalized by NormalizeIdentifier first): not empty, and
//     a bare address, local@domain, exactly as net/mail parses it: no
//     display name, no comment, no angle brackets, no quoted local part;
//   - phoneNumber: empty, or at most maxPhoneLength characters of digits,
//     spaces and + - ( ) . with at least one digit.
//
// A refusal is outcome.ErrInvalidInput (USER_INPUT_ERROR) with a message naming
// the field.

// MaxFieldLength bounds the text fields of a customer (Vendure's columns are
// varchar(255)).
const MaxFieldLength = 255

// Field is a named text field of a customer, by its GraphQL name.
type Field struct{ Name, Value string }

// CheckFields refuses the first field that breaks its rule.
func CheckFields(fields []Field) error {
	for _, f := range fields {
		if err := checkField(f); err != nil {
			return err
		}
	}
	return nil
}

// maxPhoneLength bounds a phone number: E.164 allows 15 digits; the rest
// leaves room for a prefix, an extension and separators.
const maxPhoneLength = 32

// phoneChars are the characters a phone number may hold besides digits.
const phoneChars = " +-()."

// checkField applies the rule of f's field (by its GraphQL name).
func checkField(f Field) error {
	if utf8.RuneCountInString(f.Value) > MaxFieldLength {
		return fmt.Errorf("%w: %s must be at most %d characters long", outcome.ErrInvalidInput, f.Name, MaxFieldLength)
	}
	if strings.ContainsFunc(f.Value, unicode.IsControl) {
		return fmt.Errorf("%w: %s must not contain control characters", outcome.ErrInvalidInput, f.Name)
	}
	switch f.Name {
	case "emailAddress":
		return checkEmailAddress(f.Value)
	case "phoneNumber":
		return checkPhoneNumber(f.Value)
	}
	return nil
}

// checkEmailAddress refuses anything but a bare address.
func checkEmailAddress(v string) error {
	if v == "" {
		return fmt.Errorf("%w: emailAddress must not be empty", outcome.ErrInvalidInput)
	}
	a, err := mail.ParseAddress(v)
	if err != nil || a.Name != "" || a.Address != v {
		return fmt.Errorf("%w: emailAddress must be an e-mail address (name@example.com)", outcome.ErrInvalidInput)
	}
	return nil
}

// checkPhoneNumber refuses a non-empty value that is not a phone number.
func checkPhoneNumber(v string) error {
	if v == "" {
		return nil
	}
	ok := utf8.RuneCountInString(v) <= maxPhoneLength && strings.ContainsAny(v, "0123456789")
	for _, r := range v {
		if !ok {
			break
		}
		ok = ('0' <= r && r <= '9') || strings.ContainsRune(phoneChars, r)
	}
	if !ok {
		return fmt.Errorf("%w: phoneNumber must be a phone number: at most %d digits, spaces and + - ( ) . characters",
			outcome.ErrInvalidInput, maxPhoneLength)
	}
	return nil
}
