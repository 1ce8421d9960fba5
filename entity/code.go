package entity

import (
	"context"
	"database/sql/driver"
	"fmt"
	"io"
	"strings"
)

// LanguageCode is a value of Vendure's LanguageCode enum: an ISO 639-1 code
// with an optional region or script (de_AT, zh_Hans). Channels store it as
// text; both GraphQL APIs bind their LanguageCode enum to this type, so a
// typed client (GraphQL Code Generator) sees Vendure's enum.
type LanguageCode string

// CurrencyCode is a value of Vendure's CurrencyCode enum (ISO 4217).
type CurrencyCode string

// LanguageCodes is a channel's list of languages, stored like StringList.
type LanguageCodes []LanguageCode

// CurrencyCodes is a channel's list of currencies, stored like StringList.
type CurrencyCodes []CurrencyCode

// The values of Vendure's enums, in its order (schema/common/*-code.graphqls
// holds them with their descriptions; graph/schema_test.go checks both agree).
var (
	languageCodes = codeSet[LanguageCode]("LanguageCode", `
		af ak sq am ar hy as az bm bn eu be bs br bg my ca ce zh zh_Hans zh_Hant cu kw co hr cs
		da nl nl_BE dz en en_AU en_CA en_GB en_US eo et ee fo fi fr fr_CA fr_CH ff gl lg ka de
		de_AT de_CH el gu ht ha he hi hu is ig id ia ga it ja jv kl kn ks kk km ki rw ko ku ky lo
		la lv ln lt lu lb mk mg ms ml mt gv mi mr mn ne nd se nb nn ny or om os ps fa fa_AF pl pt
		pt_BR pt_PT pa qu ro ro_MD rm rn ru sm sg sa gd sr sn ii sd si sk sl so st es es_ES es_MX
		su sw sw_CD sv tg ta tt te th bo ti to tr tk uk ur ug uz vi vo cy fy wo xh yi yo zu`)
	currencyCodes = codeSet[CurrencyCode]("CurrencyCode", `
		AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
		BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR
		FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD
		JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK
		MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN
		PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLL SOS SRD SSP STN SVC SYP SZL THB
		TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER
		ZAR ZMW ZWL`)
)

// AllLanguageCodes returns Vendure's LanguageCode values in its order.
func AllLanguageCodes() []LanguageCode { return append([]LanguageCode(nil), languageCodes.all...) }

// AllCurrencyCodes returns Vendure's CurrencyCode values in its order.
func AllCurrencyCodes() []CurrencyCode { return append([]CurrencyCode(nil), currencyCodes.all...) }

// IsValid reports whether c is one of Vendure's LanguageCode values.
func (c LanguageCode) IsValid() bool { return languageCodes.has(c) }

// IsValid reports whether c is one of Vendure's CurrencyCode values.
func (c CurrencyCode) IsValid() bool { return currencyCodes.has(c) }

// The GraphQL marshalers refuse a value the enum lacks. The database holds
// codes as text, so a row written by hand or by another program may hold
// one: the field then fails with an error (logged, INTERNAL_SERVER_ERROR to
// the client) instead of sending a value that typed clients cannot decode.

// MarshalGQLContext implements graphql.ContextMarshaler.
func (c LanguageCode) MarshalGQLContext(_ context.Context, w io.Writer) error {
	return languageCodes.marshal(w, c)
}

// UnmarshalGQLContext implements graphql.ContextUnmarshaler.
func (c *LanguageCode) UnmarshalGQLContext(_ context.Context, v any) error {
	return languageCodes.unmarshal(v, c)
}

// MarshalGQLContext implements graphql.ContextMarshaler.
func (c CurrencyCode) MarshalGQLContext(_ context.Context, w io.Writer) error {
	return currencyCodes.marshal(w, c)
}

// UnmarshalGQLContext implements graphql.ContextUnmarshaler.
func (c *CurrencyCode) UnmarshalGQLContext(_ context.Context, v any) error {
	return currencyCodes.unmarshal(v, c)
}

// The lists marshal themselves, so gqlgen binds Channel's list fields
// without a resolver; each element is checked as above.

// MarshalGQLContext implements graphql.ContextMarshaler.
func (l LanguageCodes) MarshalGQLContext(_ context.Context, w io.Writer) error {
	return languageCodes.marshalList(w, l)
}

// UnmarshalGQLContext implements graphql.ContextUnmarshaler.
func (l *LanguageCodes) UnmarshalGQLContext(_ context.Context, v any) error {
	return languageCodes.unmarshalList(v, (*[]LanguageCode)(l))
}

// MarshalGQLContext implements graphql.ContextMarshaler.
func (l CurrencyCodes) MarshalGQLContext(_ context.Context, w io.Writer) error {
	return currencyCodes.marshalList(w, l)
}

// UnmarshalGQLContext implements graphql.ContextUnmarshaler.
func (l *CurrencyCodes) UnmarshalGQLContext(_ context.Context, v any) error {
	return currencyCodes.unmarshalList(v, (*[]CurrencyCode)(l))
}

// Value implements driver.Valuer.
func (l LanguageCodes) Value() (driver.Value, error) { return joinCodes(l), nil }

// Scan implements sql.Scanner.
func (l *LanguageCodes) Scan(src any) error { return scanCodes(src, (*[]LanguageCode)(l)) }

// Value implements driver.Valuer.
func (l CurrencyCodes) Value() (driver.Value, error) { return joinCodes(l), nil }

// Scan implements sql.Scanner.
func (l *CurrencyCodes) Scan(src any) error { return scanCodes(src, (*[]CurrencyCode)(l)) }

// codes is the value set of one enum.
type codes[C ~string] struct {
	name string // the GraphQL enum's name, for errors
	all  []C
	set  map[C]struct{}
}

func codeSet[C ~string](name, fields string) codes[C] {
	cs := codes[C]{name: name, set: map[C]struct{}{}}
	for _, f := range strings.Fields(fields) {
		cs.all = append(cs.all, C(f))
		cs.set[C(f)] = struct{}{}
	}
	return cs
}

func (cs codes[C]) has(c C) bool {
	_, ok := cs.set[c]
	return ok
}

func (cs codes[C]) marshal(w io.Writer, c C) error {
	if !cs.has(c) {
		return fmt.Errorf("stored value %q is not a %s", string(c), cs.name)
	}
	// Every value is [A-Za-z_]+, so quoting needs no escapes.
	_, err := io.WriteString(w, `"`+string(c)+`"`)
	return err
}

func (cs codes[C]) marshalList(w io.Writer, l []C) error {
	for _, c := range l {
		if !cs.has(c) {
			return fmt.Errorf("stored value %q is not a %s", string(c), cs.name)
		}
	}
	if _, err := io.WriteString(w, "["); err != nil {
		return err
	}
	for i, c := range l {
		if i > 0 {
			if _, err := io.WriteString(w, ","); err != nil {
				return err
			}
		}
		if err := cs.marshal(w, c); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "]")
	return err
}

func (cs codes[C]) unmarshal(v any, c *C) error {
	s, ok := v.(string)
	if !ok || !cs.has(C(s)) {
		return fmt.Errorf("%v is not a valid %s", v, cs.name)
	}
	*c = C(s)
	return nil
}

func (cs codes[C]) unmarshalList(v any, l *[]C) error {
	items, ok := v.([]any)
	if !ok {
		items = []any{v} // GraphQL input coercion: a single value is a list of one
	}
	out := make([]C, len(items))
	for i, item := range items {
		if err := cs.unmarshal(item, &out[i]); err != nil {
			return err
		}
	}
	*l = out
	return nil
}

func joinCodes[C ~string](l []C) string {
	parts := make([]string, len(l))
	for i, c := range l {
		parts[i] = string(c)
	}
	return strings.Join(parts, ",")
}

func scanCodes[C ~string](src any, l *[]C) error {
	var s StringList
	if err := s.Scan(src); err != nil {
		return err
	}
	if s == nil {
		*l = nil
		return nil
	}
	*l = make([]C, len(s))
	for i, v := range s {
		(*l)[i] = C(v)
	}
	return nil
}
