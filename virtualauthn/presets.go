package virtualauthn

import (
	"slices"

	"github.com/google/uuid"
)

// Presets maps short names (rpserver loadtest -mix, rpserver phone, the
// authenticator service) to the preset models. Attested ones are signed by
// the given TestCA.
var Presets = map[string]func(ca *TestCA) Config{
	"ms-ios":     MicrosoftAuthenticatorIOS,
	"ms-android": MicrosoftAuthenticatorAndroid,
	"yubikey": func(ca *TestCA) Config {
		c := YubiKey5(ca)
		// YubiKey 5 supports discoverable credentials, and servers ask for
		// them; keep the user handle so discoverable sign-in works.
		c.ResidentKey = true
		return c
	},
	"synced": func(*TestCA) Config { return GooglePasswordManager() },
	"icloud": func(*TestCA) Config { return ICloudKeychain() },
}

// PresetNames lists the names of Presets, sorted.
func PresetNames() []string {
	names := make([]string, 0, len(Presets))
	for n := range Presets {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Well-known AAGUIDs used by the presets.
var (
	AAGUIDMicrosoftAuthenticatorIOS     = uuid.MustParse("90a3ccdf-635c-4729-a248-9b709135078f")
	AAGUIDMicrosoftAuthenticatorAndroid = uuid.MustParse("de1e552d-db1d-4423-a619-566b625cdc84")
	AAGUIDYubiKey5NFC                   = uuid.MustParse("cb69481e-8ff7-4039-93ec-0a2729a154a8")
	AAGUIDGooglePasswordManager         = uuid.MustParse("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4")
	AAGUIDICloudKeychain                = uuid.MustParse("fbfc3007-154e-4ecc-8c0b-6e020557d7bd")
)

// MicrosoftAuthenticatorIOS models the device-bound passkey in Microsoft
// Authenticator on iOS.
//
// Format choice: "packed" with an x5c chain, not "apple". The "apple" format
// is produced only by Apple's own platform authenticator (signed by the Apple
// WebAuthn CA); a third-party credential provider such as Authenticator
// cannot obtain such a certificate, and Microsoft's FIDO MDS entry for this
// AAGUID lists basic_full attestation with Microsoft roots. We could not
// check a live device from the lab, so treat this as our best reading.
func MicrosoftAuthenticatorIOS(ca *TestCA) Config {
	return Config{
		Name:             "Microsoft Authenticator (iOS)",
		AAGUID:           AAGUIDMicrosoftAuthenticatorIOS,
		Format:           FormatPacked,
		CA:               ca,
		CertCountry:      "US",
		CertOrganization: "Microsoft Corporation",
		UserVerification: true,
		Counter:          CounterZero,
		ResidentKey:      true,
		Transports:       []string{"hybrid", "internal"},
		Attachment:       "platform",
	}
}

// MicrosoftAuthenticatorAndroid models Microsoft Authenticator on Android,
// whose keys live in the Android Keystore and are attested with
// "android-key" (hardware-backed: origin/purpose in teeEnforced).
func MicrosoftAuthenticatorAndroid(ca *TestCA) Config {
	return Config{
		Name:             "Microsoft Authenticator (Android)",
		AAGUID:           AAGUIDMicrosoftAuthenticatorAndroid,
		Format:           FormatAndroidKey,
		CA:               ca,
		UserVerification: true,
		Counter:          CounterZero,
		ResidentKey:      true,
		Transports:       []string{"hybrid", "internal"},
		Attachment:       "platform",
	}
}

// YubiKey5 models a YubiKey 5 NFC: packed batch attestation, USB/NFC,
// incrementing signature counter, PIN as user verification.
func YubiKey5(ca *TestCA) Config {
	return Config{
		Name:             "Yubico YubiKey 5 NFC",
		AAGUID:           AAGUIDYubiKey5NFC,
		Format:           FormatPacked,
		CA:               ca,
		CertCountry:      "SE",
		CertOrganization: "Yubico AB",
		UserVerification: true,
		Counter:          CounterIncrement,
		Transports:       []string{"nfc", "usb"},
		Attachment:       "cross-platform",
	}
}

// GooglePasswordManager models a synced passkey: backup eligible and backed
// up, no attestation, signature counter always 0.
func GooglePasswordManager() Config {
	return Config{
		Name:             "Google Password Manager",
		AAGUID:           AAGUIDGooglePasswordManager,
		Format:           FormatNone,
		UserVerification: true,
		BackupEligible:   true,
		BackupState:      true,
		Counter:          CounterZero,
		ResidentKey:      true,
		Transports:       []string{"hybrid", "internal"},
		Attachment:       "platform",
	}
}

// ICloudKeychain models an iCloud Keychain synced passkey.
func ICloudKeychain() Config {
	c := GooglePasswordManager()
	c.Name = "iCloud Keychain"
	c.AAGUID = AAGUIDICloudKeychain
	return c
}
