// Generated from services/proto/src/limits.rs; never edited by hand.

export const MAX_PAGE = 100;
export const MAX_FRAME_BYTES = 16384;
export const MAX_BODY_CHARS = 4000;
export const PREVIEW_CHARS = 140;
export const MAX_GROUP_MEMBERS = 256;
export const MIN_TITLE_CHARS = 1;
export const MAX_TITLE_CHARS = 100;
export const MAX_EMOJI_BYTES = 16;
export const MAX_REACTIONS = 20;
export const MAX_REACTIONS_PER_MEMBER = 5;
export const MAX_REACTIONS_IN_ALL = 1280;
export const MAX_ATTACHMENTS = 10;
export const DEFAULT_ATTACHMENT_MAX_BYTES = 26214400;
export const MAX_SEARCH_CHARS = 200;
export const MIN_USERNAME_CHARS = 3;
export const MAX_USERNAME_CHARS = 32;
export const MIN_PASSWORD_CHARS = 8;
export const MAX_PASSWORD_CHARS = 128;
export const MAX_INVITE_USES = 1000;
export const MAX_INVITE_HOURS = 720;
export const MAX_INVITE_CODE_CHARS = 64;
export const MAX_RESET_CODE_CHARS = 64;
export const PASSWORD_RESET_HOURS = 24;
