package entity_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/entity"
)

func order(lines ...entity.OrderLine) *entity.Order {
	o := &entity.Order{}
	for i := range lines {
		o.Lines = append(o.Lines, &lines[i])
	}
	return o
}

// Line prices and totals are exact up to MaxMoney and an error beyond it:
// never a wrapped (negative) or rounded number, whatever the stored rows
// hold.
func TestOrderArithmeticIsChecked(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []entity.OrderLine
		line  int64 // LinePrice of the first line; -1: out of range
		total int64 // SubTotal; -1: out of range
	}{
		{"Empty", nil, 0, 0},
		{"Simple", []entity.OrderLine{{UnitPrice: 1999, Quantity: 3}, {UnitPrice: 1, Quantity: 1}}, 5997, 5998},
		{"ZeroQuantityOfAHugePrice", []entity.OrderLine{{UnitPrice: math.MaxInt64, Quantity: 0}}, 0, 0},
		{"ExactlyMaxMoney", []entity.OrderLine{{UnitPrice: entity.MaxMoney, Quantity: 1}}, entity.MaxMoney, entity.MaxMoney},
		{"MaxPriceTimesDefaultLimit", []entity.OrderLine{{UnitPrice: 1e12, Quantity: 999}}, 999e12, 999e12},
		{"OneOverMaxMoney", []entity.OrderLine{{UnitPrice: entity.MaxMoney + 1, Quantity: 1}}, -1, -1},
		// 2^63−1 × 2 wraps to −2 in int64 arithmetic.
		{"MaxInt64TimesTwo", []entity.OrderLine{{UnitPrice: math.MaxInt64, Quantity: 2}}, -1, -1},
		{"ProductJustOver", []entity.OrderLine{{UnitPrice: entity.MaxMoney/3 + 1, Quantity: 3}}, -1, -1},
		{"LinesFitSumDoesNot", []entity.OrderLine{{UnitPrice: entity.MaxMoney, Quantity: 1}, {UnitPrice: 1, Quantity: 1}}, entity.MaxMoney, -1},
		{"ManyLinesAtTheEdge", []entity.OrderLine{{UnitPrice: 1 << 52, Quantity: 1}, {UnitPrice: 1<<52 - 1, Quantity: 1}, {UnitPrice: 1, Quantity: 1}}, 1 << 52, -1},
		{"NegativeQuantity", []entity.OrderLine{{UnitPrice: 5, Quantity: -1}}, -1, -1},
		{"HugeNegativePrice", []entity.OrderLine{{UnitPrice: math.MinInt64, Quantity: 1}}, -1, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := order(tc.lines...)
			if len(o.Lines) > 0 {
				p, err := o.Lines[0].LinePrice()
				if tc.line < 0 {
					require.ErrorIs(t, err, entity.ErrOutOfRange)
				} else {
					require.NoError(t, err)
					require.Equal(t, tc.line, p)
				}
			}
			sum, err := o.SubTotal()
			if tc.total < 0 {
				require.ErrorIs(t, err, entity.ErrOutOfRange)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.total, sum)
		})
	}
}

// The total quantity is an Int: beyond 2^31−1 it is an error.
func TestOrderTotalQuantityIsChecked(t *testing.T) {
	n, err := order(entity.OrderLine{Quantity: 2}, entity.OrderLine{Quantity: 3}).TotalQuantity()
	require.NoError(t, err)
	require.Equal(t, 5, n)

	n, err = order(entity.OrderLine{Quantity: math.MaxInt32}).TotalQuantity()
	require.NoError(t, err)
	require.Equal(t, math.MaxInt32, n)

	_, err = order(entity.OrderLine{Quantity: math.MaxInt32}, entity.OrderLine{Quantity: 1}).TotalQuantity()
	require.ErrorIs(t, err, entity.ErrOutOfRange)
	_, err = order(entity.OrderLine{Quantity: math.MaxInt}, entity.OrderLine{Quantity: math.MaxInt}).TotalQuantity()
	require.ErrorIs(t, err, entity.ErrOutOfRange, "no wrap through int64 either")
	_, err = order(entity.OrderLine{Quantity: -1}).TotalQuantity()
	require.ErrorIs(t, err, entity.ErrOutOfRange)
}
