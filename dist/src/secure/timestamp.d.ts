/** Returns pydantic's text for a timestamp, or throws EnvelopeSerializationError for text it would refuse. */
export declare function pydanticTimestamp(text: string, path?: string): string;
