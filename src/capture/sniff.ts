/**
 * What the first bytes of an input look like when they are not a capture: one phrase for the message
 * and one suggestion for what to run instead. Runs once per input, never per packet.
 */

export interface NotACaptureDescription {
  /** "tcpdump's text output", "an HTML page", "empty", … */
  looksLike: string;
  /** What to run instead. */
  hint: string;
}

const WRITE_HINT = 'capture to a file with `tcpdump -i any -w FILE.pcap ...` (-w writes packets, not text) and analyse FILE.pcap';

/** Bytes a description is based on; the reader waits for this many (or the end) before giving up. */
export const SNIFF_BYTES = 512;

export function describeNonCapture(head: Uint8Array): NotACaptureDescription {
  if (head.length === 0) {
    return { looksLike: 'the input is empty (0 bytes)', hint: `nothing was captured; ${WRITE_HINT}` };
  }
  const magic = head.length >= 4 ? ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0 : -1;
  if (head.length < 4 && startsWithPrintable(head)) {
    return { looksLike: `only ${head.length} byte(s) of text`, hint: WRITE_HINT };
  }
  if (head.length < 4) {
    return { looksLike: `only ${head.length} byte(s), too short for a capture header`, hint: WRITE_HINT };
  }
  const archive = archiveKind(head, magic);
  if (archive !== null) {
    return { looksLike: `${archive.name} data`, hint: archive.hint };
  }
  if (startsWith(head, 'snoop\0\0\0')) {
    return { looksLike: 'a Solaris snoop capture', hint: 'convert it with `editcap -F pcap FILE out.pcap`' };
  }
  const text = asciiPrefix(head);
  if (text !== null) {
    const trimmed = text.replace(/^\uFEFF/, '').trimStart();
    const lower = trimmed.toLowerCase();
    if (lower.startsWith('<!doctype html') || lower.startsWith('<html') || /<(head|body|title)[\s>]/.test(lower)) {
      return {
        looksLike: 'an HTML page (a download link or error page saved instead of the capture?)',
        hint: 'download the capture file itself (e.g. `curl -L -o cap.pcap URL`), or ' + WRITE_HINT,
      };
    }
    if (lower.startsWith('<?xml') || lower.startsWith('<pdml') || lower.startsWith('<psml')) {
      return { looksLike: 'XML (tshark -T pdml output?)', hint: WRITE_HINT };
    }
    if (lower.startsWith('{') || lower.startsWith('[')) {
      return { looksLike: 'JSON text (tshark -T json, or a synscope report?)', hint: `synscope reads packet captures; ${WRITE_HINT}` };
    }
    if (looksLikeTcpdumpText(trimmed)) {
      return {
        looksLike: "tcpdump's text output (lines like '12:34:56.789 IP a.b.c.d.443 > ...'), not a capture",
        hint: 'rerun tcpdump with -w to save packets: `tcpdump -i any -w FILE.pcap ...` (add -U to stream it: `tcpdump -U -w - ... | synscope analyze -`)',
      };
    }
    return { looksLike: 'plain text, not a capture', hint: WRITE_HINT };
  }
  const hex = Array.from(head.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return {
    looksLike: `binary data of an unknown format (first bytes ${hex}; pcap starts with a1b2c3d4 or d4c3b2a1, pcapng with 0a0d0d0a)`,
    hint: 'if another tool wrote it, convert it with `editcap -F pcap FILE out.pcap`; otherwise ' + WRITE_HINT,
  };
}

const TCPDUMP_LINE =
  /^(\d{4}-\d\d-\d\d[ T])?\d{1,2}:\d\d:\d\d(\.\d+)?\s+(\S+\s+)?(In|Out|M|B|P)?\s*(IP6?|ARP|ethertype|\S+\s+>|[0-9a-f]{2}(:[0-9a-f]{2}){5})/;

function looksLikeTcpdumpText(text: string): boolean {
  const lines = text.split(/\r?\n/, 6);
  for (const line of lines) {
    if (/^(reading from file|listening on|tcpdump: )/.test(line)) return true;
    if (TCPDUMP_LINE.test(line)) return true;
    if (/^\d+\.\d{6}\s+IP6?\s/.test(line)) return true; // tcpdump -tt
  }
  return false;
}

function archiveKind(head: Uint8Array, magic: number): { name: string; hint: string } | null {
  if (head[0] === 0x1f && head[1] === 0x8b) return { name: 'gzip', hint: 'the gzip stream holds no capture; check it with `gzip -t`' };
  if (startsWith(head, 'BZh')) return { name: 'bzip2', hint: 'decompress it first: `bunzip2 -k FILE` (synscope reads gzip directly)' };
  if (magic === 0xfd377a58) return { name: 'xz', hint: 'decompress it first: `xz -dk FILE` (synscope reads gzip directly)' };
  if (magic === 0x28b52ffd) return { name: 'zstd', hint: 'decompress it first: `zstd -d FILE` (synscope reads gzip directly)' };
  if (magic === 0x504b0304) return { name: 'a zip archive', hint: 'unpack it first: `unzip FILE`' };
  return null;
}

function startsWith(head: Uint8Array, prefix: string): boolean {
  if (head.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (head[i] !== prefix.charCodeAt(i)) return false;
  return true;
}

function startsWithPrintable(head: Uint8Array): boolean {
  return asciiPrefix(head) !== null;
}

/** The bytes as text when they are valid UTF-8 with (almost) no control characters, else null. */
function asciiPrefix(head: Uint8Array): string | null {
  let control = 0;
  for (let i = 0; i < head.length; i++) {
    const b = head[i]!;
    if (b === 0) return null;
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) control++;
  }
  if (control > head.length * 0.05) return null;
  // The sniffed prefix may end inside a multi-byte character: allow up to 3 bytes to be cut off.
  for (let cut = 0; cut <= Math.min(3, head.length - 1); cut++) {
    try {
      return utf8.decode(head.subarray(0, head.length - cut));
    } catch {
      // not valid UTF-8 at this length
    }
  }
  return null;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
