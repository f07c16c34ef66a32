// A user's menu: open a chat with them, block or unblock them.
import { useState } from 'react';
import { errorText, useCreateConversationMutation } from '../api/http';
import { useBlockedUsersQuery, useBlockMutation, useUnblockMutation } from '../api/blocks';
import type { UserId } from '../api/types';
import { useAppDispatch, useAppSelector } from '../app/hooks';
import { selectConversationWith } from '../features/chat/selectors';
import { noticeShown } from '../features/notices/noticesSlice';
import { navigate } from '../lib/router';
import { ConfirmDialog } from './Dialog';
import { MoreIcon } from './icons';
import { MenuButton, type MenuItem } from './Menu';

/** Whether I block `userId` (from the list of blocked users, loaded once and kept current). */
export function useIsBlocked(userId: UserId | undefined): boolean {
  const { data } = useBlockedUsersQuery();
  return userId !== undefined && (data?.users.some((u) => u.id === userId) ?? false);
}

/** Block or unblock, with a notice when the server refuses. */
export function useBlockToggle(user: { id: UserId; username: string }) {
  const dispatch = useAppDispatch();
  const blocked = useIsBlocked(user.id);
  const [block] = useBlockMutation();
  const [unblock] = useUnblockMutation();
  const toggle = async () => {
    const r = blocked ? await unblock(user.id) : await block(user.id);
    if ('error' in r && r.error) dispatch(noticeShown(errorText(r.error)));
  };
  return { blocked, toggle };
}

export function UserMenu({
  user,
  withMessage = false,
  extra = [],
  className = 'inline-flex h-10 w-10 items-center justify-center rounded-full text-xl text-slate-500 hover:bg-slate-100 hover:text-slate-800 dark:text-slate-400 dark:hover:bg-slate-800 dark:hover:text-slate-100',
}: {
  user: { id: UserId; username: string };
  /** Offer "Message" (opens our direct chat). */
  withMessage?: boolean;
  /** More items, after the others (say, removing them from a group). */
  extra?: MenuItem[];
  className?: string;
}) {
  const dispatch = useAppDispatch();
  const { blocked, toggle } = useBlockToggle(user);
  const [confirmBlock, setConfirmBlock] = useState(false);
  const existing = useAppSelector((s) => selectConversationWith(s, user.id));
  const [create] = useCreateConversationMutation();

  async function message() {
    if (existing) return navigate(`/c/${existing.id}`);
    const r = await create({ peerId: user.id });
    if (r.data) navigate(`/c/${r.data.conversation.id}`);
    else dispatch(noticeShown(errorText(r.error)));
  }

  const items: MenuItem[] = [
    ...(withMessage ? [{ label: `Message ${user.username}`, onSelect: () => void message() }] : []),
    blocked
      ? { label: `Unblock ${user.username}`, onSelect: () => void toggle() }
      : { label: `Block ${user.username}`, danger: true, onSelect: () => setConfirmBlock(true) },
    ...extra,
  ];
  return (
    <>
      {/* Named after the user: in Group info every member has one, and "User menu" ×12 told nothing apart. */}
      <MenuButton label={`Options for ${user.username}`} items={items} className={className}>
        <MoreIcon />
      </MenuButton>
      {confirmBlock && (
        <ConfirmDialog
          title={`Block ${user.username}?`}
          text={`${user.username} will not be able to send you messages. You can unblock them at any time.`}
          action="Block"
          onConfirm={() => void toggle()}
          onClose={() => setConfirmBlock(false)}
        />
      )}
    </>
  );
}
