/**
 * The simulated clients' prompts by word count, as prefixes of one long text: building a
 * Credit-Notice copies no text, and a prompt of n words is made once, when first drawn.
 */
export class PromptBook {
  private readonly text: string;
  /** End offset of the n-th word's prompt (index 0 unused). */
  private readonly ends: number[] = [0];
  private readonly made: string[] = [];

  constructor(maxPromptBytes: number) {
    const vocabulary = ['tell', 'me', 'a', 'story', 'about', 'the', 'llamas', 'of', 'high', 'andes'];
    const limit = Math.min(maxPromptBytes, 1 << 20);
    const parts: string[] = [];
    let length = -1;
    for (let n = 0; ; n++) {
      const word = vocabulary[n % vocabulary.length]!;
      if (length + 1 + word.length > limit) break;
      length += 1 + word.length;
      parts.push(word);
      this.ends.push(length);
    }
    this.text = parts.join(' ');
  }

  /** The longest prompt, in words, that fits maxPromptBytes. */
  get maxWords(): number {
    return this.ends.length - 1;
  }

  prompt(words: number): string {
    let text = this.made[words];
    if (text === undefined) {
      text = this.text.slice(0, this.ends[words]);
      this.made[words] = text;
    }
    return text;
  }
}
