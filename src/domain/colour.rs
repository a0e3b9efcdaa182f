//! Colours that always read: WCAG 2 contrast between two sRGB colours, and the palette
//! a portal's accent colour becomes, so that whatever colour a client picks, text on it
//! and text in it keep a contrast of at least 4.5:1 (WCAG AA for normal text) in the
//! light and in the dark theme.

/// The contrast WCAG AA asks of normal text.
pub const AA_TEXT: f64 = 4.5;

/// An sRGB colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

/// The card background of the light theme (see `assets/gatehouse.css`).
pub const LIGHT_CARD: Rgb = Rgb(0xff, 0xff, 0xff);
/// The page background of the light theme.
pub const LIGHT_PAGE: Rgb = Rgb(0xf4, 0xf6, 0xf8);
/// The card background of the dark theme.
pub const DARK_CARD: Rgb = Rgb(0x1c, 0x21, 0x28);
/// The page background of the dark theme.
pub const DARK_PAGE: Rgb = Rgb(0x12, 0x16, 0x1b);
/// Dark text, for light accents.
pub const INK: Rgb = Rgb(0x11, 0x14, 0x18);
/// Light text, for dark accents.
pub const WHITE: Rgb = Rgb(0xff, 0xff, 0xff);

impl Rgb {
    /// Reads `#rrggbb` (any case).
    pub fn parse(hex: &str) -> Option<Rgb> {
        let digits = hex.strip_prefix('#')?;
        if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let channel = |i: usize| u8::from_str_radix(&digits[i..i + 2], 16).ok();
        Some(Rgb(channel(0)?, channel(2)?, channel(4)?))
    }

    /// `#rrggbb`, lower case.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// WCAG 2 relative luminance (0 for black, 1 for white).
    pub fn luminance(self) -> f64 {
        fn linear(c: u8) -> f64 {
            let c = f64::from(c) / 255.0;
            if c <= 0.039_28 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        }
        0.2126 * linear(self.0) + 0.7152 * linear(self.1) + 0.0722 * linear(self.2)
    }

    /// This colour moved `t` (0..=1) of the way towards `to`.
    fn towards(self, to: Rgb, t: f64) -> Rgb {
        let mix = |a: u8, b: u8| {
            let v = f64::from(a) + (f64::from(b) - f64::from(a)) * t;
            v.round().clamp(0.0, 255.0) as u8
        };
        Rgb(mix(self.0, to.0), mix(self.1, to.1), mix(self.2, to.2))
    }
}

/// The WCAG 2 contrast ratio of two colours (1 to 21).
pub fn contrast(a: Rgb, b: Rgb) -> f64 {
    let (la, lb) = (a.luminance(), b.luminance());
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

/// What a portal's pages use of its accent colour.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccentPalette {
    /// The colour as chosen: the top bar and primary buttons.
    pub accent: Rgb,
    /// Text on the accent: dark or white, whichever reads (always ≥ 4.5:1).
    pub on_accent: Rgb,
    /// Links and outlined buttons on the light theme's cards: the accent, darkened just
    /// enough to read on white and on the page background.
    pub text_light: Rgb,
    /// The same on the dark theme's cards, lightened just enough.
    pub text_dark: Rgb,
}

impl AccentPalette {
    pub fn of(accent: Rgb) -> AccentPalette {
        // White or our dark ink, whichever reads better; for the few mid-tones where
        // neither reaches 4.5:1, pure black does (it reaches at least 4.58:1 on any
        // colour that white does not).
        let on_accent = [WHITE, INK]
            .into_iter()
            .max_by(|a, b| contrast(accent, *a).total_cmp(&contrast(accent, *b)))
            .filter(|c| contrast(accent, *c) >= AA_TEXT)
            .unwrap_or(Rgb(0, 0, 0));
        AccentPalette {
            accent,
            on_accent,
            text_light: readable_on(accent, &[LIGHT_CARD, LIGHT_PAGE], Rgb(0, 0, 0)),
            text_dark: readable_on(accent, &[DARK_CARD, DARK_PAGE], WHITE),
        }
    }
}

/// `colour` moved towards `extreme` in small steps until it reads (≥ 4.5:1) on every
/// background; the extreme itself reads on all of ours, so this always ends.
fn readable_on(colour: Rgb, backgrounds: &[Rgb], extreme: Rgb) -> Rgb {
    let reads = |c: Rgb| backgrounds.iter().all(|&bg| contrast(c, bg) >= AA_TEXT);
    (0..=50)
        .map(|step| colour.towards(extreme, f64::from(step) / 50.0))
        .find(|&c| reads(c))
        .unwrap_or(extreme)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_matches_known_wcag_values() {
        assert!((contrast(WHITE, Rgb(0, 0, 0)) - 21.0).abs() < 1e-9);
        assert!((contrast(WHITE, WHITE) - 1.0).abs() < 1e-9);
        // #777777 on white is the classic "just below AA" grey: 4.48:1.
        let grey = contrast(Rgb::parse("#777777").unwrap(), WHITE);
        assert!((grey - 4.48).abs() < 0.01, "{grey}");
        // The trial's unreadable portal: white on #f5e663 is about 1.3:1.
        let yellow = contrast(Rgb::parse("#F5E663").unwrap(), WHITE);
        assert!(yellow < 1.4, "{yellow}");
    }

    #[test]
    fn parse_and_hex_round_trip() {
        assert_eq!(Rgb::parse("#1F4e79").unwrap().hex(), "#1f4e79");
        for bad in ["", "#", "1f4e79", "#1f4e7", "#1f4e7g", "#1f4e799", "red"] {
            assert_eq!(Rgb::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn every_accent_gets_readable_text_in_both_themes() {
        // A sweep over the colour cube, light and dark accents alike.
        for r in (0..=255).step_by(17) {
            for g in (0..=255).step_by(17) {
                for b in (0..=255).step_by(17) {
                    let accent = Rgb(r as u8, g as u8, b as u8);
                    let p = AccentPalette::of(accent);
                    assert!(contrast(p.on_accent, accent) >= AA_TEXT, "{accent:?}");
                    for bg in [LIGHT_CARD, LIGHT_PAGE] {
                        assert!(contrast(p.text_light, bg) >= AA_TEXT, "{accent:?}");
                    }
                    for bg in [DARK_CARD, DARK_PAGE] {
                        assert!(contrast(p.text_dark, bg) >= AA_TEXT, "{accent:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_light_accent_gets_dark_text_and_a_dark_one_white() {
        let yellow = AccentPalette::of(Rgb::parse("#f5e663").unwrap());
        assert_eq!(yellow.on_accent, INK);
        assert_ne!(
            yellow.text_light, yellow.accent,
            "darkened for links on white"
        );
        let navy = AccentPalette::of(Rgb::parse("#1f4e79").unwrap());
        assert_eq!(navy.on_accent, WHITE);
        assert_eq!(navy.text_light, navy.accent, "already reads on white: kept");
    }
}
