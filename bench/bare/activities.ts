import { Ollama } from 'ollama';

/** The bare workflow's one activity: the same streamed model call a Switchyard job makes, and nothing else. */
export function createBareActivities(ollama: Ollama, model: string) {
  return {
    async chat(prompt: string): Promise<string> {
      let text = '';
      for await (const part of await ollama.chat({ model, stream: true, messages: [{ role: 'user', content: prompt }] })) text += part.message.content;
      return text;
    },
  };
}

export type BareActivities = ReturnType<typeof createBareActivities>;
