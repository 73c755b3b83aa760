// express-session's hash() input: a session as JSON without its top-level cookie. Comparing two of
// them tells "modified" as express-session does (its isModified and isSaved).

export function serializeWithoutCookie(sess: object): string {
  return JSON.stringify(sess, function (this: unknown, key, value: unknown) {
    return this === sess && key === 'cookie' ? undefined : value;
  });
}
