/** src/pages/*.html are Text modules (wrangler's default rule; wrangler.jsonc `rules` for vitest). */
declare module "*.html" {
  const text: string;
  export default text;
}
