// The CPU model of the CUDA programming guide's texture fetching rules that the texture e2e programs compare against
// (textures.cu, texref.cpp): addressing, point and linear filtering with 1.8 fixed-point weights. Written from the
// guide, independent of the library's code.
#pragma once

#include <texture_types.h>

#include <cmath>
#include <vector>

struct Model {
  int W = 1, H = 1, D = 1, Channels = 1;
  std::vector<float> Texels; // Channels floats per texel, already converted (normalized where the read mode says)
  cudaTextureAddressMode Mode[3] = {cudaAddressModeClamp, cudaAddressModeClamp, cudaAddressModeClamp};
  bool Linear = false, Normalized = false;
  float Border[4] = {0, 0, 0, 0};

  // Index after addressing; -1 for border.
  static int addr(int I, int N, cudaTextureAddressMode M) {
    if (M == cudaAddressModeWrap)
      return ((I % N) + N) % N;
    if (M == cudaAddressModeMirror) {
      int P = 2 * N, R = ((I % P) + P) % P;
      return R < N ? R : P - 1 - R;
    }
    if (M == cudaAddressModeBorder)
      return (I < 0 || I >= N) ? -1 : I;
    return I < 0 ? 0 : (I >= N ? N - 1 : I);
  }
  void texel(int X, int Y, int Z, float *Out) const {
    int Pos[3] = {X, Y, Z}, Size[3] = {W, H, D};
    for (int K = 0; K < 3; ++K) {
      Pos[K] = addr(Pos[K], Size[K], Mode[K]);
      if (Pos[K] < 0) {
        for (int C = 0; C < 4; ++C)
          Out[C] = Border[C];
        return;
      }
    }
    for (int C = 0; C < 4; ++C)
      Out[C] = C < Channels ? Texels[((Pos[2] * H + Pos[1]) * W + Pos[0]) * Channels + C] : (C == 3 ? 1.0f : 0.0f);
  }
  // Scaled coordinate: normalized coordinates wrap/mirror into [0, 1) first ("x is replaced by frac(x)").
  float scale(float X, int N, cudaTextureAddressMode M) const {
    if (!Normalized)
      return X;
    if (M == cudaAddressModeWrap)
      X = X - floorf(X);
    else if (M == cudaAddressModeMirror) {
      float F = floorf(X);
      X = (static_cast<long long>(F) % 2 == 0) ? X - F : 1.0f - (X - F);
    }
    return X * N;
  }
  void sample(const float *Coord, int Dims, float *Out) const {
    float C[3] = {0, 0, 0};
    int Size[3] = {W, H, D};
    for (int K = 0; K < Dims; ++K)
      C[K] = scale(Coord[K], Size[K], Mode[K]);
    if (!Linear) {
      texel(static_cast<int>(floorf(C[0])), static_cast<int>(floorf(C[1])), static_cast<int>(floorf(C[2])), Out);
      return;
    }
    // tex(x) = (1 - a) T[i] + a T[i + 1] with xB = x - 0.5, i = floor(xB), a = frac(xB) in 1.8 fixed point.
    int I[3] = {0, 0, 0};
    float A[3] = {0, 0, 0};
    for (int K = 0; K < Dims; ++K) {
      float B = C[K] - 0.5f;
      I[K] = static_cast<int>(floorf(B));
      A[K] = rintf((B - floorf(B)) * 256.0f) / 256.0f;
    }
    for (int Ch = 0; Ch < 4; ++Ch)
      Out[Ch] = 0;
    for (int K = 0; K < (1 << Dims); ++K) {
      float Wt = 1;
      for (int Dd = 0; Dd < Dims; ++Dd)
        Wt *= (K >> Dd) & 1 ? A[Dd] : 1.0f - A[Dd];
      float T[4];
      texel(I[0] + (K & 1), I[1] + ((K >> 1) & 1), I[2] + ((K >> 2) & 1), T);
      for (int Ch = 0; Ch < 4; ++Ch)
        Out[Ch] += Wt * T[Ch];
    }
  }
};
