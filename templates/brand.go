package templates

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode"
)

// Brand is how customer emails present the sender: the layout's header
// (logo or name, accent colour) and the footer every customer email
// carries (postal address, unsubscribe link). The zero Brand is the neutral
// one: DefaultBrandName, DefaultBrandColor, no logo, no address.
type Brand struct {
	Name    string // the sender as readers know it
	LogoURL string // an https image URL; "": the name is shown instead
	Color   string // #rrggbb; "": DefaultBrandColor
	// PostalAddress is the sender's postal address, which every commercial
	// email must carry (CAN-SPAM); "": the footer says it is not set.
	PostalAddress string
}

// Defaults of a Brand left empty.
const (
	DefaultBrandName  = "Customer Success"
	DefaultBrandColor = "#2b6cb0" // a neutral blue, readable as text on white
)

var colorPattern = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// Brand errors name the field; config names the setting.
var (
	ErrBrandColor = fmt.Errorf("want a colour such as %s (#rrggbb)", DefaultBrandColor)
	ErrBrandLogo  = fmt.Errorf("want an https URL of an image, such as https://example.com/logo.png")
	ErrBrandText  = fmt.Errorf("must be one line without control characters")
)

// CheckColor refuses a colour that is not #rrggbb ("" is the default).
func CheckColor(c string) error {
	if c != "" && !colorPattern.MatchString(c) {
		return ErrBrandColor
	}
	return nil
}

// CheckLogoURL refuses a logo that is not an absolute https URL ("" is no
// logo): mail clients block plain http images, and a relative one points
// nowhere.
func CheckLogoURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || strings.ContainsAny(s, " \"'<>") {
		return ErrBrandLogo
	}
	return nil
}

// CheckLine refuses a name or address that would not print as one line.
func CheckLine(s string) error {
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return ErrBrandText
	}
	return nil
}

// normal is the brand with its defaults, and with what is not valid left
// out (config refuses it first; a brand made in code may not have been).
func (b Brand) normal() Brand {
	b.Name = strings.TrimSpace(b.Name)
	if b.Name == "" || CheckLine(b.Name) != nil {
		b.Name = DefaultBrandName
	}
	if b.Color == "" || CheckColor(b.Color) != nil {
		b.Color = DefaultBrandColor
	}
	b.Color = strings.ToLower(b.Color)
	if CheckLogoURL(b.LogoURL) != nil {
		b.LogoURL = ""
	}
	b.PostalAddress = strings.TrimSpace(b.PostalAddress)
	if CheckLine(b.PostalAddress) != nil {
		b.PostalAddress = strings.Join(strings.FieldsFunc(b.PostalAddress, unicode.IsControl), ", ")
	}
	return b
}

// WithBrand returns a set that lays its text-first templates out, and
// footers its customer emails, with the brand.
func (s *Set) WithBrand(b Brand) *Set {
	return &Set{byName: s.byName, brand: b.normal()}
}

// Brand is the set's brand, with its defaults; a nil set's is the neutral
// brand.
func (s *Set) Brand() Brand {
	if s == nil {
		return Brand{}.normal()
	}
	return s.brand.normal()
}
