// Error names come from the toolkit headers (generated table); descriptions are the strings CUDA prints.
#include "support/ErrorTables.h"

#include "CushimErrorTables.inc"

namespace cushim {

const char *driverErrorName(CUresult Code) {
  switch (static_cast<int>(Code)) {
#define X(Name, Value)                                                                                                 \
  case Value:                                                                                                          \
    return #Name;
    CUSHIM_DRIVER_ERRORS(X)
#undef X
  default:
    return nullptr;
  }
}

const char *runtimeErrorName(cudaError_t Code) {
  switch (static_cast<int>(Code)) {
#define X(Name, Value)                                                                                                 \
  case Value:                                                                                                          \
    return #Name;
    CUSHIM_RUNTIME_ERRORS(X)
#undef X
  default:
    return nullptr;
  }
}

// Descriptions shared by both APIs, keyed by the (equal) numeric code where the two agree.
static const char *commonDescription(int Code) {
  switch (Code) {
  case 0: return "no error";
  case 1: return "invalid argument";
  case 2: return "out of memory";
  case 3: return "initialization error";
  case 4: return "driver shutting down";
  case 5: return "profiler disabled while using external profiling tool";
  case 6: return "profiler not initialized: call cudaProfilerInitialize()";
  case 7: return "profiler already started";
  case 8: return "profiler already stopped";
  case 34: return "CUDA driver is a stub library";
  case 46: return "CUDA-capable device(s) is/are busy or unavailable";
  case 100: return "no CUDA-capable device is detected";
  case 101: return "invalid device ordinal";
  case 102: return "device doesn't have valid Grid license";
  case 200: return "device kernel image is invalid";
  case 201: return "invalid device context";
  case 202: return "context is already current";
  case 205: return "mapping of buffer object failed";
  case 206: return "unmapping of buffer object failed";
  case 207: return "array is mapped";
  case 208: return "resource already mapped";
  case 209: return "no kernel image is available for execution on the device";
  case 210: return "resource already acquired";
  case 211: return "resource not mapped";
  case 212: return "resource not mapped as array";
  case 213: return "resource not mapped as pointer";
  case 214: return "uncorrectable ECC error encountered";
  case 215: return "limit is not supported on this architecture";
  case 216: return "exclusive-thread device already in use by a different thread";
  case 217: return "peer access is not supported between these two devices";
  case 218: return "a PTX JIT compilation failed";
  case 219: return "invalid OpenGL or DirectX context";
  case 220: return "uncorrectable NVLink error detected during the execution";
  case 221: return "PTX JIT compiler library not found";
  case 222: return "the provided PTX was compiled with an unsupported toolchain.";
  case 223: return "the PTX JIT compilation was disabled";
  case 224: return "the provided execution affinity is not supported";
  case 225: return "the provided PTX contains unsupported call to cudaDeviceSynchronize";
  case 300: return "invalid source";
  case 301: return "file not found";
  case 302: return "link to a shared object failed to resolve";
  case 303: return "shared object initialization failed";
  case 304: return "OS call failed or operation not supported on this OS";
  case 400: return "invalid resource handle";
  case 401: return "the operation cannot be performed in the present state";
  case 402: return "tensor map object is not valid";
  case 500: return "named symbol not found";
  case 600: return "device not ready";
  case 700: return "an illegal memory access was encountered";
  case 701: return "too many resources requested for launch";
  case 702: return "the launch timed out and was terminated";
  case 703: return "launch uses incompatible texturing mode";
  case 704: return "peer access is already enabled";
  case 705: return "peer access has not been enabled";
  case 708: return "cannot set while device is active in this process";
  case 709: return "context is destroyed";
  case 710: return "device-side assert triggered";
  case 711: return "peer mapping resources exhausted";
  case 712: return "part or all of the requested memory range is already mapped";
  case 713: return "pointer does not correspond to a registered memory region";
  case 714: return "an illegal instruction was encountered";
  case 715: return "misaligned address";
  case 716: return "operation not supported on global/shared address space";
  case 717: return "invalid program counter";
  case 718: return "unspecified launch failure";
  case 719: return "unspecified launch failure";
  case 720: return "too many blocks in cooperative launch";
  case 721: return "tensor memory not completely freed";
  case 800: return "operation not permitted";
  case 801: return "operation not supported";
  case 802: return "system not yet initialized";
  case 803: return "system has unsupported display driver / cuda driver combination";
  case 804: return "forward compatibility was attempted on non supported HW";
  case 900: return "operation not permitted when stream is capturing";
  case 901: return "operation failed due to a previous error during capture";
  case 902: return "operation would result in a merge of separate capture sequences";
  case 903: return "capture was not ended in the same stream as it began";
  case 904: return "capturing stream has unjoined work";
  case 905: return "operation not permitted on an event last recorded in a capturing stream";
  case 906: return "operation would make the legacy stream depend on a capturing blocking stream";
  case 907: return "attempt to terminate a thread-local capture sequence from another thread";
  case 908: return "operation would result in a capture sequence with an external dependency";
  case 909: return "the graph update was not performed because it included changes which violated constraints specific to instantiated graph update";
  case 999: return "unknown error";
  default: return nullptr;
  }
}

const char *driverErrorString(CUresult Code) {
  if (!driverErrorName(Code))
    return nullptr;
  if (const char *S = commonDescription(static_cast<int>(Code)))
    return S;
  return driverErrorName(Code);
}

const char *runtimeErrorString(cudaError_t Code) {
  switch (Code) {
  case cudaErrorMissingConfiguration: return "__global__ function call is not configured";
  case cudaErrorLaunchFailure: return "unspecified launch failure";
  case cudaErrorLaunchOutOfResources: return "too many resources requested for launch";
  case cudaErrorInvalidDeviceFunction: return "invalid device function";
  case cudaErrorInvalidConfiguration: return "invalid configuration argument";
  case cudaErrorInvalidPitchValue: return "invalid pitch argument";
  case cudaErrorInvalidSymbol: return "invalid device symbol";
  case cudaErrorInvalidHostPointer: return "invalid host pointer";
  case cudaErrorInvalidDevicePointer: return "invalid device pointer";
  case cudaErrorInvalidTexture: return "invalid texture reference";
  case cudaErrorInvalidTextureBinding: return "texture is not bound to a pointer";
  case cudaErrorInvalidChannelDescriptor: return "invalid channel descriptor";
  case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
  case cudaErrorInvalidFilterSetting: return "linear filtering not supported for non-float type";
  case cudaErrorInvalidNormSetting: return "read as normalized float not supported for 32-bit non float type";
  case cudaErrorInsufficientDriver: return "CUDA driver version is insufficient for CUDA runtime version";
  case cudaErrorCallRequiresNewerDriver: return "API call is not supported in the installed CUDA driver";
  case cudaErrorInvalidSurface: return "invalid surface reference";
  case cudaErrorDuplicateVariableName: return "duplicate global variable looked up by string name";
  case cudaErrorDuplicateTextureName: return "duplicate texture looked up by string name";
  case cudaErrorDuplicateSurfaceName: return "duplicate surface looked up by string name";
  case cudaErrorDevicesUnavailable: return "CUDA-capable device(s) is/are busy or unavailable";
  case cudaErrorIncompatibleDriverContext: return "incompatible driver context";
  case cudaErrorDeviceUninitialized: return "invalid device context";
  case cudaErrorInvalidKernelImage: return "device kernel image is invalid";
  case cudaErrorSharedObjectSymbolNotFound: return "shared object symbol not found";
  case cudaErrorSharedObjectInitFailed: return "shared object initialization failed";
  case cudaErrorSymbolNotFound: return "named symbol not found";
  case cudaErrorStartupFailure: return "startup failure in cuda runtime";
  default: break;
  }
  if (!runtimeErrorName(Code))
    return nullptr;
  if (const char *S = commonDescription(static_cast<int>(Code)))
    return S;
  return runtimeErrorName(Code);
}

cudaError_t runtimeErrorFromDriver(CUresult Code) {
  switch (Code) {
  case CUDA_SUCCESS: return cudaSuccess;
  case CUDA_ERROR_DEINITIALIZED: return cudaErrorCudartUnloading;
  case CUDA_ERROR_INVALID_CONTEXT: return cudaErrorDeviceUninitialized;
  case CUDA_ERROR_INVALID_IMAGE: return cudaErrorInvalidKernelImage;
  case CUDA_ERROR_NOT_FOUND: return cudaErrorSymbolNotFound;
  case CUDA_ERROR_LAUNCH_FAILED: return cudaErrorLaunchFailure;
  case CUDA_ERROR_INVALID_HANDLE: return cudaErrorInvalidResourceHandle;
  case CUDA_ERROR_NO_DEVICE: return cudaErrorNoDevice;
  case CUDA_ERROR_INVALID_DEVICE: return cudaErrorInvalidDevice;
  case CUDA_ERROR_NO_BINARY_FOR_GPU: return cudaErrorNoKernelImageForDevice;
  case CUDA_ERROR_INVALID_PTX: return cudaErrorInvalidPtx;
  case CUDA_ERROR_STUB_LIBRARY: return cudaErrorStubLibrary;
  default: break;
  }
  // Most codes at and above 100 share their numeric value between the two APIs.
  int V = static_cast<int>(Code);
  if (runtimeErrorName(static_cast<cudaError_t>(V)))
    return static_cast<cudaError_t>(V);
  return cudaErrorUnknown;
}

} // namespace cushim
