// The benchmark kernels in OpenCL C 1.2, run on PoCL's CPU device with the same work-group shapes as the CUDA
// versions. PoCL 3.1 has no sub-groups, so the warp-shuffle reduction uses local memory within each warp of 32.

#define STENCIL_CENTER 0.5f
#define STENCIL_NEIGHBOUR 0.125f
#define NBODY_SOFTENING2 0.01f
#define BS_R 0.02f
#define BS_V 0.30f
#define TILE 16
#define SCAN_PER_THREAD 4

__kernel void saxpy(int N, float A, __global const float *X, __global const float *Y, __global float *Z) {
  int I = get_global_id(0);
  if (I < N)
    Z[I] = A * X[I] + Y[I];
}

__kernel void reduceShared(__global const int *In, int N, __global int *Partial) {
  __local int S[256];
  int Tid = get_local_id(0), B = get_local_size(0);
  int Sum = 0;
  for (int I = get_group_id(0) * B + Tid; I < N; I += get_num_groups(0) * B)
    Sum += In[I];
  S[Tid] = Sum;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int Stride = B / 2; Stride > 0; Stride >>= 1) {
    if (Tid < Stride)
      S[Tid] += S[Tid + Stride];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (Tid == 0)
    Partial[get_group_id(0)] = S[0];
}

// The CUDA version sums each warp with shuffles; here each warp's 32 values are summed in local memory.
__kernel void reduceShuffle(__global const float *In, int N, __global float *Partial) {
  __local float S[1024];
  __local float WarpSums[32];
  int Tid = get_local_id(0), B = get_local_size(0), Lane = Tid & 31, Warp = Tid >> 5;
  float Sum = 0.0f;
  for (int I = get_group_id(0) * B + Tid; I < N; I += get_num_groups(0) * B)
    Sum += In[I];
  S[Tid] = Sum;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int Offset = 16; Offset > 0; Offset >>= 1) {
    if (Lane < Offset)
      S[Tid] += S[Tid + Offset];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (Lane == 0)
    WarpSums[Warp] = S[Tid];
  barrier(CLK_LOCAL_MEM_FENCE);
  if (Tid == 0) {
    float Total = 0.0f;
    for (int W = 0; W < B / 32; ++W)
      Total += WarpSums[W];
    Partial[get_group_id(0)] = Total;
  }
}

__kernel void sgemmTiled(int N, __global const float *A, __global const float *B, __global float *C) {
  __local float As[TILE][TILE];
  __local float Bs[TILE][TILE];
  int Tx = get_local_id(0), Ty = get_local_id(1);
  int Row = get_group_id(1) * TILE + Ty, Col = get_group_id(0) * TILE + Tx;
  float Acc = 0.0f;
  for (int T = 0; T < N / TILE; ++T) {
    As[Ty][Tx] = A[Row * N + T * TILE + Tx];
    Bs[Ty][Tx] = B[(T * TILE + Ty) * N + Col];
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int K = 0; K < TILE; ++K)
      Acc += As[Ty][K] * Bs[K][Tx];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  C[Row * N + Col] = Acc;
}

__kernel void stencil2d(int N, __global const float *In, __global float *Out) {
  int X = get_global_id(0), Y = get_global_id(1);
  if (X >= N || Y >= N)
    return;
  int I = Y * N + X;
  if (X == 0 || Y == 0 || X == N - 1 || Y == N - 1) {
    Out[I] = In[I];
    return;
  }
  Out[I] = STENCIL_CENTER * In[I] + STENCIL_NEIGHBOUR * (In[I - 1] + In[I + 1] + In[I - N] + In[I + N]);
}

__kernel void nbody(int N, __global const float4 *Pos, __global float4 *Acc) {
  __local float4 Tile[256];
  int I = get_global_id(0), Lid = get_local_id(0), B = get_local_size(0);
  float4 P = Pos[I];
  float Ax = 0.0f, Ay = 0.0f, Az = 0.0f;
  for (int Base = 0; Base < N; Base += B) {
    Tile[Lid] = Pos[Base + Lid];
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int J = 0; J < B; ++J) {
      float4 Q = Tile[J];
      float Dx = Q.x - P.x, Dy = Q.y - P.y, Dz = Q.z - P.z;
      float D2 = Dx * Dx + Dy * Dy + Dz * Dz + NBODY_SOFTENING2;
      float Inv = rsqrt(D2);
      float S = Q.w * Inv * Inv * Inv;
      Ax += Dx * S;
      Ay += Dy * S;
      Az += Dz * S;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  Acc[I] = (float4)(Ax, Ay, Az, 0.0f);
}

__kernel void histogram(__global const uchar *In, int N, __global uint *Bins) {
  __local uint H[256];
  int Lid = get_local_id(0), B = get_local_size(0);
  for (int I = Lid; I < 256; I += B)
    H[I] = 0;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int I = get_global_id(0); I < N; I += get_global_size(0))
    atomic_inc(&H[In[I]]);
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int I = Lid; I < 256; I += B)
    if (H[I])
      atomic_add(&Bins[I], H[I]);
}

float cnd(float D) {
  const float A1 = 0.31938153f, A2 = -0.356563782f, A3 = 1.781477937f, A4 = -1.821255978f, A5 = 1.330274429f;
  const float Rsqrt2Pi = 0.39894228040143267793994605993438f;
  float K = 1.0f / (1.0f + 0.2316419f * fabs(D));
  float C = Rsqrt2Pi * exp(-0.5f * D * D) * (K * (A1 + K * (A2 + K * (A3 + K * (A4 + K * A5)))));
  return D > 0 ? 1.0f - C : C;
}

__kernel void blackScholes(int N, __global const float *S, __global const float *X, __global const float *T,
                           __global float *Call, __global float *Put) {
  int I = get_global_id(0);
  if (I >= N)
    return;
  float SqrtT = sqrt(T[I]);
  float D1 = (log(S[I] / X[I]) + (BS_R + 0.5f * BS_V * BS_V) * T[I]) / (BS_V * SqrtT);
  float D2 = D1 - BS_V * SqrtT;
  float Cnd1 = cnd(D1), Cnd2 = cnd(D2);
  float ExpRT = exp(-BS_R * T[I]);
  Call[I] = S[I] * Cnd1 - X[I] * ExpRT * Cnd2;
  Put[I] = X[I] * ExpRT * (1.0f - Cnd2) - S[I] * (1.0f - Cnd1);
}

__kernel void spmvCsr(int Rows, __global const int *RowPtr, __global const int *Col, __global const float *Val,
                      __global const float *X, __global float *Y) {
  int R = get_global_id(0);
  if (R >= Rows)
    return;
  float Sum = 0.0f;
  for (int K = RowPtr[R]; K < RowPtr[R + 1]; ++K)
    Sum += Val[K] * X[Col[K]];
  Y[R] = Sum;
}

// Exclusive scan of one value per work-item across the group (Hillis-Steele, double-buffered in Tmp[2 * size]).
int groupExclusiveScan(int V, __local int *Tmp, int *Total) {
  int Tid = get_local_id(0), B = get_local_size(0), Out = 0;
  Tmp[Tid] = V;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int Offset = 1; Offset < B; Offset <<= 1) {
    int In = Out;
    Out = 1 - Out;
    int X = Tmp[In * B + Tid];
    if (Tid >= Offset)
      X += Tmp[In * B + Tid - Offset];
    Tmp[Out * B + Tid] = X;
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  *Total = Tmp[Out * B + B - 1];
  int Result = Tmp[Out * B + Tid] - V;
  barrier(CLK_LOCAL_MEM_FENCE);
  return Result;
}

__kernel void scanTiles(__global const int *In, __global int *Out, __global int *Sums) {
  __local int Tmp[2 * 256];
  int Base = get_group_id(0) * get_local_size(0) * SCAN_PER_THREAD + get_local_id(0) * SCAN_PER_THREAD;
  int V[SCAN_PER_THREAD], Sum = 0;
  for (int K = 0; K < SCAN_PER_THREAD; ++K) {
    V[K] = Sum;
    Sum += In[Base + K];
  }
  int Total;
  int Offset = groupExclusiveScan(Sum, Tmp, &Total);
  for (int K = 0; K < SCAN_PER_THREAD; ++K)
    Out[Base + K] = V[K] + Offset;
  if (get_local_id(0) == 0)
    Sums[get_group_id(0)] = Total;
}

__kernel void scanSums(__global int *Sums, int Count) {
  __local int Tmp[2 * 1024];
  int B = get_local_size(0);
  int Chunk = (Count + B - 1) / B;
  int Begin = min(Count, (int)get_local_id(0) * Chunk), End = min(Count, Begin + Chunk);
  int Sum = 0;
  for (int I = Begin; I < End; ++I)
    Sum += Sums[I];
  int Total;
  int Offset = groupExclusiveScan(Sum, Tmp, &Total);
  for (int I = Begin; I < End; ++I) {
    int V = Sums[I];
    Sums[I] = Offset;
    Offset += V;
  }
}

__kernel void scanAdd(__global int *Out, __global const int *Sums) {
  int Base = get_group_id(0) * get_local_size(0) * SCAN_PER_THREAD + get_local_id(0) * SCAN_PER_THREAD;
  int Add = Sums[get_group_id(0)];
  for (int K = 0; K < SCAN_PER_THREAD; ++K)
    Out[Base + K] += Add;
}

__kernel void empty(void) {}
