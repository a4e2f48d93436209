// Several virtual devices (CUSHIM_DEVICES) and CUDA_VISIBLE_DEVICES: device count and identities, per-device
// allocations and kernels, pointer attributes naming the owning device, peer access and its documented errors, peer
// copies (runtime and driver), per-device reset, and device selection by index and UUID with CUDA's truncation rule.
//
//   multi_device                       the full check; needs at least 3 visible devices
//   multi_device --expect-count N      only checks the device count (0: cudaErrorNoDevice)
//   multi_device --expect-bus B,B,...  checks the count and each device's PCI bus (which physical device it is)
//   multi_device --report              prints "count=N buses=B,B,..." (run by the full check with other
//                                      CUDA_VISIBLE_DEVICES values)
#include "e2e_common.h"

#include <cuda.h>

#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

__global__ void fillDevice(int *Out, int N, int Device) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < N)
    Out[I] = Device * 100000 + I * 3;
}

// Reads another device's buffer (peer access) and writes its own.
__global__ void addFromPeer(int *Out, const int *Peer, int N) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < N)
    Out[I] += 2 * Peer[I];
}

static int expectedFill(int Device, int I) { return Device * 100000 + I * 3; }

static void expectCu(CUresult Got, CUresult Want, const char *What) {
  const char *GotName = "?", *WantName = "?";
  cuGetErrorName(Got, &GotName);
  cuGetErrorName(Want, &WantName);
  e2e::expect(Got == Want, (std::string(What) + ": got " + GotName + ", want " + WantName).c_str());
}

static int pciBus(int Device) {
  int Bus = -1;
  E2E_CHECK(cudaDeviceGetAttribute(&Bus, cudaDevAttrPciBusId, Device));
  return Bus;
}

// "count=N buses=B,B,..." for the devices this process sees.
static std::string report() {
  int Count = 0;
  cudaError_t E = cudaGetDeviceCount(&Count);
  if (E != cudaSuccess)
    return std::string("count=0 error=") + cudaGetErrorName(E);
  std::string S = "count=" + std::to_string(Count) + " buses=";
  for (int D = 0; D < Count; ++D)
    S += (D ? "," : "") + std::to_string(pciBus(D));
  return S;
}

static std::string uuidOf(int Device) {
  cudaDeviceProp P;
  E2E_CHECK(cudaGetDeviceProperties(&P, Device));
  const unsigned char *U = reinterpret_cast<const unsigned char *>(P.uuid.bytes);
  char Text[64];
  std::snprintf(Text, sizeof(Text), "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", U[0],
                U[1], U[2], U[3], U[4], U[5], U[6], U[7], U[8], U[9], U[10], U[11], U[12], U[13], U[14], U[15]);
  return Text;
}

static void identities(int Count) {
  std::printf("device identities\n");
  std::vector<std::string> Uuids, Buses;
  for (int D = 0; D < Count; ++D) {
    Uuids.push_back(uuidOf(D));
    char Bus[32];
    E2E_CHECK(cudaDeviceGetPCIBusId(Bus, sizeof(Bus), D));
    Buses.push_back(Bus);
    int Back = -1;
    E2E_CHECK(cudaDeviceGetByPCIBusId(&Back, Bus));
    e2e::expect(Back == D, ("cudaDeviceGetByPCIBusId finds device " + std::to_string(D)).c_str());
    // The driver API agrees with the runtime.
    char DriverBus[32];
    CU_CHECK(cuDeviceGetPCIBusId(DriverBus, sizeof(DriverBus), D));
    CUdevice DriverBack = -1;
    CU_CHECK(cuDeviceGetByPCIBusId(&DriverBack, Bus));
    e2e::expect(std::strcmp(DriverBus, Bus) == 0 && DriverBack == D, "cuDeviceGetPCIBusId/GetByPCIBusId agree");
    CUuuid DriverUuid;
    CU_CHECK(cuDeviceGetUuid(&DriverUuid, D));
    cudaDeviceProp P;
    E2E_CHECK(cudaGetDeviceProperties(&P, D));
    e2e::expect(std::memcmp(DriverUuid.bytes, P.uuid.bytes, 16) == 0, "cuDeviceGetUuid matches the properties");
  }
  bool Distinct = true;
  for (int A = 0; A < Count; ++A)
    for (int B = A + 1; B < Count; ++B)
      Distinct = Distinct && Uuids[A] != Uuids[B] && Buses[A] != Buses[B];
  e2e::expect(Distinct, "every device has its own UUID and PCI bus id");
}

// Each device allocates, runs a kernel and reads back its own result; attributes name the owner.
static void perDevice(int Count, std::vector<int *> &Buffers, int N) {
  std::printf("per-device allocations and kernels\n");
  for (int D = 0; D < Count; ++D) {
    E2E_CHECK(cudaSetDevice(D));
    int Current = -1;
    E2E_CHECK(cudaGetDevice(&Current));
    e2e::expect(Current == D, "cudaGetDevice follows cudaSetDevice");
    E2E_CHECK(cudaMalloc(&Buffers[D], N * sizeof(int)));
    fillDevice<<<(N + 255) / 256, 256>>>(Buffers[D], N, D);
    E2E_CHECK(cudaGetLastError());
  }
  // cudaMemcpy orders after the current device's work only: wait for each device before reading through device 0.
  for (int D = 0; D < Count; ++D) {
    E2E_CHECK(cudaSetDevice(D));
    E2E_CHECK(cudaDeviceSynchronize());
  }
  E2E_CHECK(cudaSetDevice(0));
  for (int D = 0; D < Count; ++D) {
    std::vector<int> Host(N, -1);
    E2E_CHECK(cudaMemcpy(Host.data(), Buffers[D], N * sizeof(int), cudaMemcpyDeviceToHost));
    std::string What = "kernel results of device " + std::to_string(D);
    e2e::Mismatches M(What.c_str());
    for (int I = 0; I < N; ++I)
      M.intAt(I, Host[I], expectedFill(D, I));
    e2e::expect(M.report(), "read back through device 0");
    cudaPointerAttributes A;
    E2E_CHECK(cudaPointerGetAttributes(&A, Buffers[D] + 5));
    e2e::expect(A.type == cudaMemoryTypeDevice && A.device == D,
                ("cudaPointerGetAttributes names device " + std::to_string(D)).c_str());
  }
  // The contexts are distinct: each device's current context is its own primary context.
  std::vector<CUcontext> Contexts(Count);
  for (int D = 0; D < Count; ++D) {
    E2E_CHECK(cudaSetDevice(D));
    CU_CHECK(cuCtxGetCurrent(&Contexts[D]));
    CUdevice Dev = -1;
    CU_CHECK(cuCtxGetDevice(&Dev));
    e2e::expect(Dev == D, "the current context belongs to the current device");
  }
  e2e::expect(Contexts[0] != Contexts[1] && Contexts[1] != Contexts[2], "one primary context per device");
  E2E_CHECK(cudaSetDevice(0));
}

static void peerAccess(int Count, std::vector<int *> &Buffers, int N) {
  std::printf("peer access\n");
  int Can = -1;
  E2E_CHECK(cudaDeviceCanAccessPeer(&Can, 0, 1));
  e2e::expect(Can == 1, "device 0 can access device 1");
  E2E_CHECK(cudaDeviceCanAccessPeer(&Can, 2, 0));
  e2e::expect(Can == 1, "device 2 can access device 0");
  E2E_CHECK(cudaDeviceCanAccessPeer(&Can, 1, 1));
  e2e::expect(Can == 0, "a device is not its own peer");
  e2e::expectCode(cudaDeviceCanAccessPeer(&Can, 0, Count), cudaErrorInvalidDevice, "peer beyond the last device");
  int Attr = -1;
  E2E_CHECK(cudaDeviceGetP2PAttribute(&Attr, cudaDevP2PAttrAccessSupported, 0, 1));
  e2e::expect(Attr == 1, "P2P access supported between 0 and 1");

  E2E_CHECK(cudaSetDevice(1));
  E2E_CHECK(cudaDeviceEnablePeerAccess(0, 0));
  e2e::expectCode(cudaDeviceEnablePeerAccess(0, 0), cudaErrorPeerAccessAlreadyEnabled, "enable twice");
  e2e::expectCode(cudaGetLastError(), cudaErrorPeerAccessAlreadyEnabled, "the last error records it");
  e2e::expectCode(cudaDeviceEnablePeerAccess(1, 0), cudaErrorInvalidDevice, "enable access to itself");
  e2e::expectCode(cudaDeviceEnablePeerAccess(0, 1), cudaErrorInvalidValue, "enable with flags 1");
  e2e::expectCode(cudaDeviceEnablePeerAccess(Count + 3, 0), cudaErrorInvalidDevice, "enable for a missing device");
  e2e::expectCode(cudaDeviceDisablePeerAccess(2), cudaErrorPeerAccessNotEnabled, "disable what was never enabled");
  cudaGetLastError();

  // Device 1 reads device 0's buffer in a kernel.
  addFromPeer<<<(N + 255) / 256, 256>>>(Buffers[1], Buffers[0], N);
  E2E_CHECK(cudaGetLastError());
  E2E_CHECK(cudaDeviceSynchronize());
  std::vector<int> Host(N, -1);
  E2E_CHECK(cudaMemcpy(Host.data(), Buffers[1], N * sizeof(int), cudaMemcpyDeviceToHost));
  e2e::Mismatches M("kernel on device 1 reading device 0");
  for (int I = 0; I < N; ++I)
    M.intAt(I, Host[I], expectedFill(1, I) + 2 * expectedFill(0, I));
  e2e::expect(M.report(), "peer reads");

  // The driver sees the same pairs on the same primary contexts.
  CUcontext Ctx0 = nullptr, Ctx1 = nullptr;
  CU_CHECK(cuDevicePrimaryCtxRetain(&Ctx0, 0));
  CU_CHECK(cuDevicePrimaryCtxRetain(&Ctx1, 1));
  CUcontext Current = nullptr;
  CU_CHECK(cuCtxGetCurrent(&Current));
  e2e::expect(Current == Ctx1, "device 1's primary context is current");
  expectCu(cuCtxEnablePeerAccess(Ctx0, 0), CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED, "cuCtxEnablePeerAccess again");
  expectCu(cuCtxEnablePeerAccess(Ctx1, 0), CUDA_ERROR_INVALID_DEVICE, "cuCtxEnablePeerAccess to its own device");
  CU_CHECK(cuCtxDisablePeerAccess(Ctx0));
  expectCu(cuCtxDisablePeerAccess(Ctx0), CUDA_ERROR_PEER_ACCESS_NOT_ENABLED, "cuCtxDisablePeerAccess twice");
  e2e::expectCode(cudaDeviceDisablePeerAccess(0), cudaErrorPeerAccessNotEnabled, "runtime sees the driver's disable");
  cudaGetLastError();
  E2E_CHECK(cudaDeviceEnablePeerAccess(0, 0));
  E2E_CHECK(cudaDeviceDisablePeerAccess(0));
  int P2P = -1;
  CU_CHECK(cuDeviceGetP2PAttribute(&P2P, CU_DEVICE_P2P_ATTRIBUTE_NATIVE_ATOMIC_SUPPORTED, 1, 0));
  e2e::expect(P2P == 1, "cuDeviceGetP2PAttribute: native atomics");
  expectCu(cuDeviceGetP2PAttribute(&P2P, CU_DEVICE_P2P_ATTRIBUTE_ACCESS_SUPPORTED, 1, 1), CUDA_ERROR_INVALID_DEVICE,
           "cuDeviceGetP2PAttribute on one device");
  CU_CHECK(cuDevicePrimaryCtxRelease(0));
  CU_CHECK(cuDevicePrimaryCtxRelease(1));
  E2E_CHECK(cudaSetDevice(0));
}

static void peerCopies(int Count, std::vector<int *> &Buffers, int N) {
  std::printf("peer copies\n");
  std::vector<int> Src(N);
  for (int I = 0; I < N; ++I)
    Src[I] = I * 11 - 7;
  // Device 2 holds the source; a kernel queued on it right before the copy must finish first.
  int *On2 = nullptr, *On0 = nullptr, *On1 = nullptr;
  E2E_CHECK(cudaSetDevice(2));
  E2E_CHECK(cudaMalloc(&On2, N * sizeof(int)));
  E2E_CHECK(cudaMemcpy(On2, Src.data(), N * sizeof(int), cudaMemcpyHostToDevice));
  fillDevice<<<(N + 255) / 256, 256>>>(On2, N, 7);
  E2E_CHECK(cudaGetLastError());
  E2E_CHECK(cudaSetDevice(0));
  E2E_CHECK(cudaMalloc(&On0, N * sizeof(int)));
  E2E_CHECK(cudaMemcpyPeer(On0, 0, On2, 2, N * sizeof(int)));
  std::vector<int> Host(N, -1);
  E2E_CHECK(cudaMemcpy(Host.data(), On0, N * sizeof(int), cudaMemcpyDeviceToHost));
  {
    e2e::Mismatches M("cudaMemcpyPeer 2 -> 0 after a kernel on 2");
    for (int I = 0; I < N; ++I)
      M.intAt(I, Host[I], expectedFill(7, I));
    e2e::expect(M.report(), "ordered after the source device's work");
  }
  // Asynchronous peer copy on a stream of device 1, from device 0 into device 1.
  E2E_CHECK(cudaSetDevice(1));
  E2E_CHECK(cudaMalloc(&On1, N * sizeof(int)));
  cudaStream_t S;
  E2E_CHECK(cudaStreamCreateWithFlags(&S, cudaStreamNonBlocking));
  E2E_CHECK(cudaMemcpyPeerAsync(On1, 1, On0, 0, N * sizeof(int), S));
  addFromPeer<<<(N + 255) / 256, 256, 0, S>>>(On1, On0, N); // 3x the fill, in stream order after the copy
  E2E_CHECK(cudaMemcpyAsync(Host.data(), On1, N * sizeof(int), cudaMemcpyDeviceToHost, S));
  E2E_CHECK(cudaStreamSynchronize(S));
  {
    e2e::Mismatches M("cudaMemcpyPeerAsync 0 -> 1 then a kernel");
    for (int I = 0; I < N; ++I)
      M.intAt(I, Host[I], 3 * expectedFill(7, I));
    e2e::expect(M.report(), "stream-ordered peer copy");
  }
  E2E_CHECK(cudaStreamDestroy(S));
  // The driver's peer copy between the primary contexts.
  CUcontext Ctx0 = nullptr, Ctx2 = nullptr;
  CU_CHECK(cuDevicePrimaryCtxRetain(&Ctx0, 0));
  CU_CHECK(cuDevicePrimaryCtxRetain(&Ctx2, 2));
  E2E_CHECK(cudaSetDevice(2));
  E2E_CHECK(cudaMemset(On2, 0, N * sizeof(int)));
  CU_CHECK(cuMemcpyPeer(reinterpret_cast<CUdeviceptr>(On2), Ctx2, reinterpret_cast<CUdeviceptr>(On1), Ctx0,
                        N * sizeof(int)));
  E2E_CHECK(cudaMemcpy(Host.data(), On2, N * sizeof(int), cudaMemcpyDeviceToHost));
  {
    // On1 belongs to device 1, but any live context may be named as the source's: the copy is by address (UVA).
    e2e::Mismatches M("cuMemcpyPeer 1 -> 2");
    for (int I = 0; I < N; ++I)
      M.intAt(I, Host[I], 3 * expectedFill(7, I));
    e2e::expect(M.report(), "driver peer copy");
  }
  expectCu(cuMemcpyPeer(reinterpret_cast<CUdeviceptr>(On2), reinterpret_cast<CUcontext>(&Host), 0, Ctx0, 4),
           CUDA_ERROR_INVALID_CONTEXT, "cuMemcpyPeer with a bogus context");
  e2e::expectCode(cudaMemcpyPeer(On0, Count, On2, 2, 16), cudaErrorInvalidDevice, "cudaMemcpyPeer to a missing device");
  cudaGetLastError();
  CU_CHECK(cuDevicePrimaryCtxRelease(0));
  CU_CHECK(cuDevicePrimaryCtxRelease(2));
  E2E_CHECK(cudaFree(On2));
  E2E_CHECK(cudaFree(On1));
  E2E_CHECK(cudaSetDevice(0));
  E2E_CHECK(cudaFree(On0));
  (void)Buffers;
}

// cudaDeviceReset touches the current device only: its memory and peer pairs go, the other devices keep theirs.
static void reset(std::vector<int *> &Buffers, int N) {
  std::printf("per-device reset\n");
  E2E_CHECK(cudaSetDevice(0));
  E2E_CHECK(cudaDeviceEnablePeerAccess(1, 0));
  E2E_CHECK(cudaSetDevice(1));
  E2E_CHECK(cudaDeviceReset());
  cudaPointerAttributes A;
  E2E_CHECK(cudaPointerGetAttributes(&A, Buffers[1]));
  e2e::expect(A.type == cudaMemoryTypeUnregistered, "device 1's allocation is gone");
  Buffers[1] = nullptr;
  E2E_CHECK(cudaPointerGetAttributes(&A, Buffers[0]));
  e2e::expect(A.type == cudaMemoryTypeDevice && A.device == 0, "device 0's allocation survives");
  std::vector<int> Host(N, -1);
  E2E_CHECK(cudaMemcpy(Host.data(), Buffers[0], N * sizeof(int), cudaMemcpyDeviceToHost));
  e2e::Mismatches M("device 0 after device 1's reset");
  for (int I = 0; I < N; ++I)
    M.intAt(I, Host[I], expectedFill(0, I));
  e2e::expect(M.report(), "device 0 data intact");
  // Device 1 works again with a new primary context, and device 0's access to the old one went with it.
  int *Again = nullptr;
  E2E_CHECK(cudaMalloc(&Again, N * sizeof(int)));
  fillDevice<<<(N + 255) / 256, 256>>>(Again, N, 1);
  E2E_CHECK(cudaDeviceSynchronize());
  E2E_CHECK(cudaMemcpy(Host.data(), Again, N * sizeof(int), cudaMemcpyDeviceToHost));
  e2e::expect(Host[N - 1] == expectedFill(1, N - 1), "device 1 runs kernels after its reset");
  E2E_CHECK(cudaFree(Again));
  E2E_CHECK(cudaSetDevice(0));
  E2E_CHECK(cudaDeviceEnablePeerAccess(1, 0)); // not "already enabled": the old peer context was destroyed
  E2E_CHECK(cudaDeviceDisablePeerAccess(1));
}

// Runs this program again with another CUDA_VISIBLE_DEVICES and returns its report line.
static std::string childReport(const std::string &Self, const std::string &Visible) {
  std::string Cmd = "CUDA_VISIBLE_DEVICES='" + Visible + "' '" + Self + "' --report";
  std::fflush(stdout); // the child's log lines go to the same stderr
  FILE *P = popen(Cmd.c_str(), "r");
  if (!P)
    return "popen failed";
  char Line[512] = {0};
  std::string Out = std::fgets(Line, sizeof(Line), P) ? Line : "";
  pclose(P);
  while (!Out.empty() && (Out.back() == '\n' || Out.back() == '\r'))
    Out.pop_back();
  return Out;
}

static void visibility(int Count) {
  std::printf("CUDA_VISIBLE_DEVICES (child processes)\n");
  char Self[4096] = {0};
  ssize_t Len = readlink("/proc/self/exe", Self, sizeof(Self) - 1);
  if (Len <= 0) {
    e2e::expect(false, "readlink /proc/self/exe");
    return;
  }
  auto bus = [](int D) { return std::to_string(pciBus(D)); };
  std::string U0 = uuidOf(0), U1 = uuidOf(1), U2 = uuidOf(2);
  std::string Upper = U2;
  for (char &C : Upper)
    C = static_cast<char>(std::toupper(static_cast<unsigned char>(C)));
  // A prefix of device 1's UUID that no other device shares (the shortest that is unique, at least "GPU-x").
  std::string Prefix1;
  for (size_t L = 5; L <= U1.size(); ++L) {
    std::string P = U1.substr(0, L);
    bool Unique = true;
    for (int D = 0; D < Count; ++D)
      if (D != 1 && uuidOf(D).compare(0, L, P) == 0)
        Unique = false;
    if (Unique) {
      Prefix1 = P;
      break;
    }
  }
  struct Case {
    std::string Visible, Want, What;
  } Cases[] = {
      {"2,0", "count=2 buses=" + bus(2) + "," + bus(0), "indices reorder the devices"},
      {"1,99,0", "count=1 buses=" + bus(1), "the list stops at an index that does not exist"},
      {"0,-1,1", "count=1 buses=" + bus(0), "the list stops at -1"},
      {"", "count=0 error=cudaErrorNoDevice", "an empty list hides every device"},
      {"x,0", "count=0 error=cudaErrorNoDevice", "an invalid first entry hides every device"},
      {U2 + "," + U0, "count=2 buses=" + bus(2) + "," + bus(0), "full GPU- UUIDs"},
      {Upper, "count=1 buses=" + bus(2), "UUIDs match case-insensitively"},
      {Prefix1 + ",2", "count=2 buses=" + bus(1) + "," + bus(2), "a unique UUID prefix"},
      {"0,GPU-", "count=1 buses=" + bus(0), "an ambiguous UUID prefix (every device's) stops the list"},
      {"1,1", "count=1 buses=" + bus(1), "a repeated device stops the list"},
      {"MIG-" + U0.substr(4), "count=0 error=cudaErrorNoDevice", "MIG identifiers name no device here"},
  };
  for (const Case &C : Cases) {
    std::string Got = childReport(Self, C.Visible);
    bool Ok = Got == C.Want;
    std::printf("  %s CUDA_VISIBLE_DEVICES='%s': %s (got '%s'%s%s)\n", Ok ? "ok  " : "FAIL", C.Visible.c_str(),
                C.What.c_str(), Got.c_str(), Ok ? "" : ", want ", Ok ? "" : C.Want.c_str());
    if (!Ok)
      ++e2e::Failures;
  }
}

static std::vector<int> parseList(const char *Text) {
  std::vector<int> Out;
  for (const char *P = Text; *P;) {
    Out.push_back(std::atoi(P));
    while (*P && *P != ',')
      ++P;
    if (*P == ',')
      ++P;
  }
  return Out;
}

int main(int Argc, char **Argv) {
  if (Argc > 1 && std::strcmp(Argv[1], "--report") == 0) {
    std::printf("%s\n", report().c_str());
    return 0;
  }
  if (Argc > 2 && std::strcmp(Argv[1], "--expect-count") == 0) {
    int Want = std::atoi(Argv[2]), Count = -1;
    cudaError_t E = cudaGetDeviceCount(&Count);
    std::printf("device count\n");
    e2e::expectCode(E, Want ? cudaSuccess : cudaErrorNoDevice, "cudaGetDeviceCount");
    e2e::expect(Count == Want, ("count is " + std::to_string(Want)).c_str());
    void *P = nullptr;
    if (Want == 0)
      e2e::expectCode(cudaMalloc(&P, 16), cudaErrorNoDevice, "cudaMalloc without devices");
    return e2e::finish("multi_device", e2e::Failures);
  }
  if (Argc > 2 && std::strcmp(Argv[1], "--expect-bus") == 0) {
    std::vector<int> Want = parseList(Argv[2]);
    int Count = -1;
    E2E_CHECK(cudaGetDeviceCount(&Count));
    std::printf("device order\n");
    e2e::expect(Count == static_cast<int>(Want.size()), ("count is " + std::to_string(Want.size())).c_str());
    for (int D = 0; D < Count && D < static_cast<int>(Want.size()); ++D)
      e2e::expect(pciBus(D) == Want[D], ("device " + std::to_string(D) + " is on bus " + std::to_string(Want[D])).c_str());
    // The visible devices still work: a kernel on the last one.
    int *P = nullptr;
    E2E_CHECK(cudaSetDevice(Count - 1));
    E2E_CHECK(cudaMalloc(&P, 256 * sizeof(int)));
    fillDevice<<<1, 256>>>(P, 256, 5);
    int Host[256];
    E2E_CHECK(cudaMemcpy(Host, P, sizeof(Host), cudaMemcpyDeviceToHost));
    e2e::expect(Host[255] == expectedFill(5, 255), "a kernel runs on the last visible device");
    E2E_CHECK(cudaFree(P));
    return e2e::finish("multi_device", e2e::Failures);
  }

  int Count = 0;
  E2E_CHECK(cudaGetDeviceCount(&Count));
  std::printf("%d devices\n", Count);
  if (Count < 3) {
    std::printf("multi_device: needs at least 3 devices (set CUSHIM_DEVICES=3 or more)\n");
    return 1;
  }
  const int N = 10000;
  std::vector<int *> Buffers(Count, nullptr);
  identities(Count);
  perDevice(Count, Buffers, N);
  peerAccess(Count, Buffers, N);
  peerCopies(Count, Buffers, N);
  reset(Buffers, N);
  visibility(Count);
  for (int D = 0; D < Count; ++D) {
    if (!Buffers[D])
      continue;
    E2E_CHECK(cudaSetDevice(D));
    E2E_CHECK(cudaFree(Buffers[D]));
  }
  return e2e::finish("multi_device", e2e::Failures);
}
