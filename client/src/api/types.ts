// The contract's types, re-exported from the bindings that ts-rs generates from the Rust crate
// `gochat-proto` into ./generated (`cargo test -p gochat-proto`; never edited by hand).
// One import path for the app; nothing here is hand-copied.

export type { User } from './generated/User';
export type { UserRef } from './generated/UserRef';
export type { UserSummary } from './generated/UserSummary';
export type { UsersPage } from './generated/UsersPage';
export type { SignupRequest } from './generated/SignupRequest';
export type { SigninRequest } from './generated/SigninRequest';
export type { UserResponse } from './generated/UserResponse';
export type { CurrentUserResponse } from './generated/CurrentUserResponse';
export type { Message } from './generated/Message';
export type { Conversation } from './generated/Conversation';
export type { ConversationKind } from './generated/ConversationKind';
export type { ConversationsResponse } from './generated/ConversationsResponse';
export type { CreateConversationRequest } from './generated/CreateConversationRequest';
export type { ConversationResponse } from './generated/ConversationResponse';
export type { MessagesPage } from './generated/MessagesPage';
export type { Notification } from './generated/Notification';
export type { NotificationKind } from './generated/NotificationKind';
export type { NotificationsPage } from './generated/NotificationsPage';
export type { MarkNotificationsRead } from './generated/MarkNotificationsRead';
export type { ErrorBody } from './generated/ErrorBody';
export type { ErrorDetail } from './generated/ErrorDetail';
export type { ErrorCode } from './generated/ErrorCode';
export type { ChatClientFrame } from './generated/ChatClientFrame';
export type { ChatServerFrame } from './generated/ChatServerFrame';
export type { NotificationServerFrame } from './generated/NotificationServerFrame';
export type { UserId } from './generated/UserId';
export type { ConversationId } from './generated/ConversationId';
export type { MessageId } from './generated/MessageId';
export type { ClientId } from './generated/ClientId';
export type { NotificationId } from './generated/NotificationId';
export type { DirectConversation } from './generated/DirectConversation';
export type { GroupConversation } from './generated/GroupConversation';
export type { Member } from './generated/Member';
export type { MemberRole } from './generated/MemberRole';
export type { Receipt } from './generated/Receipt';
export type { Reaction } from './generated/Reaction';
export type { ChangesPage } from './generated/ChangesPage';
export type { AddMembersRequest } from './generated/AddMembersRequest';
export type { RenameConversationRequest } from './generated/RenameConversationRequest';
export type { SearchResult } from './generated/SearchResult';
export type { SearchResults } from './generated/SearchResults';
export type { BlockedUsers } from './generated/BlockedUsers';
