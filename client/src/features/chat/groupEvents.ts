// A group's timeline events (created, members added or removed, someone left, renamed, the owner
// changed): kept per conversation as history pages and `conversation` frames bring them, shown in
// the list right after the message they follow (`afterSeq`; 0: before the first).
import { createSlice, type PayloadAction } from '@reduxjs/toolkit';
import { api } from '../../api/http';
import type { ConversationId, TimelineEvent, UserId } from '../../api/types';

export interface GroupEventsState {
  /** Per conversation, in the order they happened (by `num`), each once. */
  byConversation: Record<ConversationId, TimelineEvent[]>;
}

const initialState: GroupEventsState = { byConversation: {} };

// An event seen twice (a frame, then a page) has the same number: the server numbers each
// conversation's events in the order they happened. Their instants cannot tell them apart or
// order them: an owner who leaves and the new owner are two events of the same millisecond.
// While a server from before the numbering still relays events (an upgrade under way), an event
// may come without its number (0): it is then told apart and ordered by what it says and when.
function merge(state: GroupEventsState, conversationId: ConversationId, events: readonly TimelineEvent[]) {
  if (events.length === 0) return;
  const list = (state.byConversation[conversationId] ??= []);
  for (const e of events) if (!list.some((known) => same(known, e))) list.push(e);
  list.sort(inOrder);
}

const numbered = (e: TimelineEvent) => (e.num ?? 0) > 0;

function same(a: TimelineEvent, b: TimelineEvent): boolean {
  if (numbered(a) && numbered(b)) return a.num === b.num;
  return a.at === b.at && a.kind === b.kind && a.actorId === b.actorId && a.userIds.join() === b.userIds.join();
}

function inOrder(a: TimelineEvent, b: TimelineEvent): number {
  if (numbered(a) && numbered(b)) return a.num - b.num;
  return a.afterSeq - b.afterSeq || Date.parse(a.at) - Date.parse(b.at);
}

const groupEventsSlice = createSlice({
  name: 'groupEvents',
  initialState,
  reducers: {
    /** Announced with a `conversation` frame. */
    groupEventReceived(state, { payload }: PayloadAction<{ conversationId: ConversationId; event: TimelineEvent }>) {
      merge(state, payload.conversationId, [payload.event]);
    },
  },
  extraReducers: (builder) => {
    builder.addMatcher(api.endpoints.messages.matchFulfilled, (state, { payload, meta }) => {
      merge(state, meta.arg.originalArgs.conversationId, payload.events ?? []);
    });
  },
});

export const { groupEventReceived } = groupEventsSlice.actions;
export const groupEventsReducer = groupEventsSlice.reducer;

const NONE: TimelineEvent[] = [];

/** The events of a conversation placed after message `seq`, oldest first. */
export function eventsAfter(events: readonly TimelineEvent[] | undefined, seq: number): TimelineEvent[] {
  if (!events) return NONE;
  const after = events.filter((e) => e.afterSeq === seq);
  return after.length === 0 ? NONE : after;
}

/** Everyone an event names, to look their names up. */
export function peopleOf(events: readonly TimelineEvent[] | undefined): UserId[] {
  return (events ?? NONE).flatMap((e) => [e.actorId, ...e.userIds]);
}

function list(names: string[]): string {
  if (names.length <= 1) return names[0] ?? 'nobody';
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** What the timeline says of an event, as the reader `myId` sees it ("You added Bob"). */
export function eventText(e: TimelineEvent, nameOf: (id: UserId) => string, myId: UserId | null): string {
  const actor = e.actorId === myId ? 'You' : nameOf(e.actorId);
  const people = list(e.userIds.map((id) => (id === myId ? 'you' : nameOf(id))));
  switch (e.kind) {
    case 'created':
      return `${actor} created the group “${e.title ?? ''}”${e.userIds.length > 0 ? ` with ${people}` : ''}`;
    case 'added':
      return `${actor} added ${people}`;
    case 'removed':
      return `${actor} removed ${people}`;
    case 'left':
      return `${actor} left`;
    case 'renamed':
      return `${actor} renamed the group to “${e.title ?? ''}”`;
    case 'owner_changed':
      return myId !== null && e.userIds.includes(myId) ? 'You are now the owner' : `${people} is now the owner`;
  }
}
