// Bounds of the admin API, as the server enforces them (services/proto/src/admin.rs).
export const MAX_INVITE_USES = 1000;
export const MAX_INVITE_HOURS = 720;
export const MAX_INVITE_CODE_CHARS = 64;
