// Opening my direct chat with someone: the one we have, or a new one.
import { useState } from 'react';
import { errorText, useCreateConversationMutation } from '../api/http';
import type { UserId } from '../api/types';
import { useAppSelector } from '../app/hooks';
import { navigate } from '../lib/router';

export function useOpenDirect(onOpened?: () => void) {
  const conversations = useAppSelector((s) => s.chat.conversations);
  const [create, { isLoading }] = useCreateConversationMutation();
  const [error, setError] = useState<string | null>(null);

  async function open(userId: UserId): Promise<void> {
    setError(null);
    const existing = Object.values(conversations).find((c) => c.kind === 'direct' && c.peer.id === userId);
    if (existing) {
      navigate(`/c/${existing.id}`);
      onOpened?.();
      return;
    }
    const result = await create({ peerId: userId });
    if (result.data) {
      navigate(`/c/${result.data.conversation.id}`);
      onOpened?.();
    } else {
      setError(errorText(result.error));
    }
  }

  return { open, busy: isLoading, error };
}
