"""Email: the third platform. Cards go out as multipart HTML and plain text over SMTP; their
buttons become signed links to confirm pages on the bot's own server."""
