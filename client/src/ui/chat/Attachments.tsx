// A message's attachments: pictures as thumbnails (their space kept before they load, so the
// list does not jump) that open full size in a lightbox, and other files as cards with their
// name, size and a download link.
import { useEffect, useRef, useState } from 'react';
import type { Attachment } from '../../api/types';
import { formatSize } from '../../api/upload';
import { fileUrl, isPicture, thumbnailSize, thumbnailUrl, typeLabel } from '../../features/chat/attachments';
import { CloseIcon, DownloadIcon, FileIcon } from '../icons';

export function Attachments({ list, mine }: { list: Attachment[]; mine: boolean }) {
  const [open, setOpen] = useState<number | null>(null);
  if (list.length === 0) return null;
  const pictures = list.filter(isPicture);
  const files = list.filter((a) => !isPicture(a));
  return (
    <div className="-mx-1.5 flex flex-col gap-1 pt-0.5 pb-1">
      {pictures.length > 0 && (
        <div className={pictures.length > 1 ? 'grid w-80 max-w-full grid-cols-2 gap-1' : ''}>
          {pictures.map((a, i) => (
            <PictureTile key={a.id} attachment={a} grid={pictures.length > 1} onOpen={() => setOpen(i)} />
          ))}
        </div>
      )}
      {files.map((a) => (
        <FileCard key={a.id} attachment={a} mine={mine} />
      ))}
      {open !== null && pictures[open] && (
        <Lightbox pictures={pictures} index={open} onIndex={setOpen} onClose={() => setOpen(null)} />
      )}
    </div>
  );
}

function PictureTile({ attachment: a, grid, onOpen }: { attachment: Attachment; grid: boolean; onOpen: () => void }) {
  const { width, height } = thumbnailSize(a);
  return (
    <button
      type="button"
      onClick={onOpen}
      aria-label={`Open picture ${a.name}`}
      className="block overflow-hidden rounded-xl bg-slate-200/60 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-accent-500 dark:bg-slate-700/60"
      style={grid ? { aspectRatio: '1 / 1' } : { width: `min(100%, ${width}px)`, aspectRatio: `${width} / ${height}` }}
    >
      <img
        src={thumbnailUrl(a)}
        alt={a.name}
        width={width}
        height={height}
        loading="lazy"
        decoding="async"
        data-testid="attachment-thumbnail"
        className="h-full w-full object-cover"
      />
    </button>
  );
}

function FileCard({ attachment: a, mine }: { attachment: Attachment; mine: boolean }) {
  return (
    <a
      href={fileUrl(a)}
      download={a.name}
      data-testid="attachment-file"
      aria-label={`Download ${a.name}, ${formatSize(a.size)}`}
      className={`flex min-w-0 items-center gap-3 rounded-xl px-2.5 py-2 ${
        mine ? 'bg-white/15 hover:bg-white/25' : 'bg-slate-100 hover:bg-slate-200 dark:bg-slate-700/60 dark:hover:bg-slate-700'
      }`}
    >
      <span className={`relative shrink-0 text-3xl ${mine ? 'text-white/90' : 'text-accent-600 dark:text-accent-400'}`}>
        <FileIcon />
      </span>
      <span className="min-w-0 flex-1">
        <span className="block truncate text-sm font-medium">{a.name}</span>
        <span className={`block text-xs ${mine ? 'text-white/75' : 'text-slate-500 dark:text-slate-400'}`}>
          {typeLabel(a)} · {formatSize(a.size)}
        </span>
      </span>
      <span className="shrink-0 text-lg">
        <DownloadIcon />
      </span>
    </a>
  );
}

/** The pictures of a message full size, one at a time (arrow keys move between them). */
function Lightbox({
  pictures,
  index,
  onIndex,
  onClose,
}: {
  pictures: Attachment[];
  index: number;
  onIndex: (i: number) => void;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const a = pictures[index]!;
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  const step = (by: number) => onIndex((index + by + pictures.length) % pictures.length);
  const button = 'inline-flex h-10 items-center justify-center gap-2 rounded-full bg-white/10 px-3 text-sm font-semibold text-white hover:bg-white/20';
  return (
    <dialog
      ref={ref}
      aria-label={a.name}
      onClose={onClose}
      onClick={(e) => {
        if (e.target === ref.current) ref.current.close();
      }}
      onKeyDown={(e) => {
        if (pictures.length > 1 && e.key === 'ArrowRight') step(1);
        if (pictures.length > 1 && e.key === 'ArrowLeft') step(-1);
      }}
      data-testid="lightbox"
      className="m-0 h-dvh max-h-none w-dvw max-w-none bg-slate-950/90 p-0 text-white backdrop:bg-slate-950/70"
    >
      <div className="flex h-full flex-col" onClick={(e) => e.target === e.currentTarget && ref.current?.close()}>
        <div className="flex items-center gap-2 p-3">
          <p className="min-w-0 flex-1 truncate text-sm">
            {a.name} <span className="text-white/60">· {formatSize(a.size)}</span>
            {pictures.length > 1 && <span className="text-white/60"> · {index + 1} of {pictures.length}</span>}
          </p>
          <a href={fileUrl(a)} download={a.name} className={button}>
            <DownloadIcon /> Download
          </a>
          <button type="button" autoFocus onClick={() => ref.current?.close()} aria-label="Close" className={`${button} w-10 px-0`}>
            <CloseIcon />
          </button>
        </div>
        <div className="flex min-h-0 flex-1 items-center justify-center gap-2 px-3 pb-3" onClick={(e) => e.target === e.currentTarget && ref.current?.close()}>
          {pictures.length > 1 && (
            <button type="button" onClick={() => step(-1)} aria-label="Previous picture" className={`${button} w-10 px-0`}>
              ‹
            </button>
          )}
          <img src={fileUrl(a)} alt={a.name} className="max-h-full max-w-full min-w-0 object-contain" />
          {pictures.length > 1 && (
            <button type="button" onClick={() => step(1)} aria-label="Next picture" className={`${button} w-10 px-0`}>
              ›
            </button>
          )}
        </div>
      </div>
    </dialog>
  );
}
