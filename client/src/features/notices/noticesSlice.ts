// Short-lived messages for the user that belong to no one place on screen: a refused edit, an
// action attempted while offline.
import { createSlice, type PayloadAction } from '@reduxjs/toolkit';

export interface Notice {
  id: number;
  text: string;
}

export interface NoticesState {
  items: Notice[];
  nextId: number;
}

const initialState: NoticesState = { items: [], nextId: 1 };

/** At most this many on screen; older ones give way. */
const MAX_NOTICES = 3;

const noticesSlice = createSlice({
  name: 'notices',
  initialState,
  reducers: {
    noticeShown(state, { payload }: PayloadAction<string>) {
      if (state.items.some((n) => n.text === payload)) return;
      state.items.push({ id: state.nextId++, text: payload });
      if (state.items.length > MAX_NOTICES) state.items.shift();
    },
    noticeDismissed(state, { payload }: PayloadAction<number>) {
      state.items = state.items.filter((n) => n.id !== payload);
    },
  },
});

export const { noticeShown, noticeDismissed } = noticesSlice.actions;
export const noticesReducer = noticesSlice.reducer;
