// Bindings of wrangler.jsonc as seen through `cloudflare:workers` in the tests.
declare namespace Cloudflare {
  interface Env {
    BACKUP_BUCKET: R2Bucket;
  }
}
