"""OAuth 2.0 (authorisation code + PKCE) for residents' mobile apps, against our ESIA login."""
