"""Identity: ESIA relying party, the ESIA emulator, sessions and eligibility rules."""
