/**
 * redactUrl hides the password of a URL such as postgres://user:secret@host/db, giving
 * postgres://user:***@host/db, and a `password=` query parameter. It works on the text, so it
 * also cleans a URL that does not parse.
 */
export function redactUrl(url: string): string {
  // The user information runs from "//" to the last "@". A valid URL's cannot hold "/", "?" or "#",
  // but a mistyped password can, and must be hidden all the same: so take everything up to the last "@".
  return url
    .replace(/([?&]password=)[^&#]*/gi, "$1***")
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)(.*)@/i, (_, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(":");
      return colon < 0 ? `${scheme}${userinfo}@` : `${scheme}${userinfo.slice(0, colon)}:***@`;
    });
}

/** scrubSecret replaces every copy of secret (as given and URL-decoded) in text with ***. */
export function scrubSecret(text: string, secret: string): string {
  if (secret === "") return text;
  let out = text.replaceAll(secret, "***");
  try {
    const decoded = decodeURIComponent(secret);
    if (decoded !== "") out = out.replaceAll(decoded, "***");
  } catch {
    // not percent-encoded: the raw form was enough
  }
  return out;
}
