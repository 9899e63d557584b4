/*
 * Stand-in for miniaudio.h when building Ollama from its Go module (see scripts/lib/ollama-server.ts).
 *
 * The module zip leaves out llama.cpp's vendor/ directory and Debian has no miniaudio package. Only
 * llama/llama.cpp/tools/mtmd/mtmd-helper.cpp includes it, to decode audio input for multimodal
 * models; Switchyard never sends audio. So this declares just what that file uses, and every decoder
 * call fails: audio input is refused at run time ("Unable to read WAV audio file from buffer").
 * mtmd-helper.cpp defines MA_API as `static` before including this, hence the definitions here.
 */
#ifndef SWITCHYARD_MINIAUDIO_STUB_H
#define SWITCHYARD_MINIAUDIO_STUB_H

#include <stddef.h>
#include <stdint.h>

#ifndef MA_API
#define MA_API
#endif

typedef uint32_t ma_uint32;
typedef uint64_t ma_uint64;
typedef int ma_result;
#define MA_SUCCESS 0
#define MA_NOT_IMPLEMENTED (-29)

typedef enum { ma_format_unknown = 0, ma_format_u8, ma_format_s16, ma_format_s24, ma_format_s32, ma_format_f32 } ma_format;

typedef struct {
  ma_format format;
  ma_uint32 channels;
  ma_uint32 sampleRate;
} ma_decoder_config;

typedef struct {
  int unused;
} ma_decoder;

MA_API ma_decoder_config ma_decoder_config_init(ma_format outputFormat, ma_uint32 outputChannels, ma_uint32 outputSampleRate) {
  ma_decoder_config config;
  config.format = outputFormat;
  config.channels = outputChannels;
  config.sampleRate = outputSampleRate;
  return config;
}

MA_API ma_result ma_decoder_init_memory(const void *pData, size_t dataSize, const ma_decoder_config *pConfig, ma_decoder *pDecoder) {
  (void)pData;
  (void)dataSize;
  (void)pConfig;
  pDecoder->unused = 0;
  return MA_NOT_IMPLEMENTED;
}

MA_API ma_result ma_decoder_get_length_in_pcm_frames(ma_decoder *pDecoder, ma_uint64 *pLength) {
  (void)pDecoder;
  *pLength = 0;
  return MA_NOT_IMPLEMENTED;
}

MA_API ma_result ma_decoder_read_pcm_frames(ma_decoder *pDecoder, void *pFramesOut, ma_uint64 frameCount, ma_uint64 *pFramesRead) {
  (void)pDecoder;
  (void)pFramesOut;
  (void)frameCount;
  *pFramesRead = 0;
  return MA_NOT_IMPLEMENTED;
}

MA_API ma_result ma_decoder_uninit(ma_decoder *pDecoder) {
  (void)pDecoder;
  return MA_SUCCESS;
}

#endif
