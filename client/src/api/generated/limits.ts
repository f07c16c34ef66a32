// Generated from services/proto/src/limits.rs and validate.rs; never edited by hand.

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

/** Characters that show nothing: a body of only these is empty. Ranges of code points, first and last included. */
export const BLANK_CHARS: readonly (readonly [number, number])[] = [[0x0000, 0x0020], [0x007F, 0x00A0], [0x00AD, 0x00AD], [0x034F, 0x034F], [0x061C, 0x061C], [0x115F, 0x1160], [0x1680, 0x1680], [0x17B4, 0x17B5], [0x180B, 0x180F], [0x2000, 0x200F], [0x2028, 0x202F], [0x205F, 0x206F], [0x2800, 0x2800], [0x3000, 0x3000], [0x3164, 0x3164], [0xFE00, 0xFE0F], [0xFEFF, 0xFEFF], [0xFFA0, 0xFFA0], [0xFFF0, 0xFFF8], [0x1BCA0, 0x1BCA3], [0x1D159, 0x1D159], [0x1D173, 0x1D17A], [0xE0000, 0xE0FFF]];

/** Control characters that are not white space: never in a body. Ranges of code points, first and last included. */
export const CONTROL_CHARS: readonly (readonly [number, number])[] = [[0x0000, 0x0008], [0x000E, 0x001F], [0x007F, 0x0084], [0x0086, 0x009F]];

/** Characters never in a group title: control characters, line breaks and tabs included, and the bidirectional overrides and isolates. Ranges of code points, first and last included. */
export const NOT_IN_TITLE_CHARS: readonly (readonly [number, number])[] = [[0x0000, 0x001F], [0x007F, 0x009F], [0x2028, 0x202E], [0x2066, 0x2069]];
