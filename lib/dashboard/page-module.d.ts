/** The dashboard page, built from web/ by web/build.js when the function is bundled (or by jest). */
declare module 'dora-dashboard-page' {
  const page: {
    /** The whole page: one HTML document with its script and styles inline. */
    html: string;
    /** Its Content-Security-Policy (hashes of exactly that script and those styles). */
    csp: string;
    /** A strong validator of `html`. */
    etag: string;
  };
  export default page;
}
