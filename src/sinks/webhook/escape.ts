/**
 * Escaping for the markups chats render. A record's text must show as itself: a `*` in a
 * message must not turn bold, a `<` must not open a tag, and a stack containing ``` must
 * not close the code block it is shown in (everything after it would render as markup).
 */

/** Zero-width space: invisible, and it splits a run of backticks so no fence can form. */
export const ZERO_WIDTH_SPACE = '\u200b'

/**
 * Discord and Slack have no escape inside a code block: the only way to keep ``` from
 * closing it is to split every run of backticks. A backtick followed by a backtick or by a
 * zero-width space gets a zero-width space after it, so the text can be restored exactly
 * (remove one zero-width space after each backtick).
 */
export function breakBacktickRuns(text: string): string {
  return text.includes('`') ? text.replace(/`(?=[`\u200b])/g, '`\u200b') : text
}

/** Telegram HTML and Slack: `&`, `<` and `>` are the only characters their parsers act on. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>]/g, (char) => (char === '&' ? '&amp;' : char === '<' ? '&lt;' : '&gt;'))
}

// https://core.telegram.org/bots/api#markdownv2-style: "any character with code between 1
// and 126 inclusively can be escaped anywhere with a preceding '\' character"; these must be.
const MARKDOWN_V2_SPECIAL = /[_*[\]()~`>#+\-=|{}.!\\]/g
// "Inside pre and code entities, all '`' and '\' characters must be escaped."
const MARKDOWN_V2_CODE_SPECIAL = /[`\\]/g

/** Telegram MarkdownV2 outside code: every special character gets a backslash. */
export function escapeMarkdownV2(text: string): string {
  return text.replace(MARKDOWN_V2_SPECIAL, '\\$&')
}

/** Telegram MarkdownV2 inside a ``` block: only backticks and backslashes. */
export function escapeMarkdownV2Code(text: string): string {
  return text.replace(MARKDOWN_V2_CODE_SPECIAL, '\\$&')
}

// Discord's markdown drops a backslash before any punctuation and shows the character
// as is; these are the ones it acts on: emphasis, code, spoilers, quotes, headings,
// lists, masked links, and `<…>` mentions, channels, emoji and timestamps.
const DISCORD_SPECIAL = /[\\*_~`|<>#\-[\]()]/g

/** Discord outside code: every markdown character gets a backslash. */
export function escapeDiscord(text: string): string {
  return text.replace(DISCORD_SPECIAL, '\\$&')
}

/** Slack mrkdwn: `&`, `<`, `>` as entities (https://api.slack.com/reference/surfaces/formatting#escaping), and no ``` fence. */
export function escapeSlack(text: string): string {
  return breakBacktickRuns(escapeHtml(text))
}

/** How one chat marks up text and code blocks. */
export interface Markup {
  /** Names the markup in errors and tests: `discord`, `HTML`, `MarkdownV2`, `slack`. */
  readonly name: string
  /** Escapes text shown outside a code block. */
  text(raw: string): string
  /** Escapes text shown inside a code block. */
  code(raw: string): string
  readonly codeOpen: string
  readonly codeClose: string
}

// Fences sit on lines of their own, so escaped content can never touch them.
/** Discord markdown; stacks in ``` blocks. */
export const DISCORD_MARKUP: Markup = { name: 'discord', text: escapeDiscord, code: breakBacktickRuns, codeOpen: '```\n', codeClose: '\n```' }
/** Telegram with `parse_mode: 'HTML'`; stacks in `<pre>`. */
export const TELEGRAM_HTML_MARKUP: Markup = { name: 'HTML', text: escapeHtml, code: escapeHtml, codeOpen: '<pre>', codeClose: '</pre>' }
/** Telegram with `parse_mode: 'MarkdownV2'`; stacks in ``` blocks. */
export const TELEGRAM_MARKDOWN_V2_MARKUP: Markup = { name: 'MarkdownV2', text: escapeMarkdownV2, code: escapeMarkdownV2Code, codeOpen: '```\n', codeClose: '\n```' }
/** Slack mrkdwn; stacks in ``` blocks. */
export const SLACK_MARKUP: Markup = { name: 'slack', text: escapeSlack, code: escapeSlack, codeOpen: '```\n', codeClose: '\n```' }
