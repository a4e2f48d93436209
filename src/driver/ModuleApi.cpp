// Modules (cuModule*): PTX text, fatbinaries and registration wrappers, compiled for the backend on load.
#include "driver/DriverApi.h"

#include "core/Module.h"

#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <sstream>

using namespace cushim;
using namespace cushim::driver;

// Copies a message into a JIT log buffer given through cuModuleLoadDataEx options, as NVIDIA's JIT does.
static void fillJitLog(unsigned NumOptions, CUjit_option *Options, void **Values, CUjit_option BufferOpt,
                       CUjit_option SizeOpt, const std::string &Message) {
  if (!Options || !Values)
    return;
  char *Buffer = nullptr;
  size_t Size = 0;
  for (unsigned I = 0; I < NumOptions; ++I) {
    if (Options[I] == BufferOpt)
      Buffer = static_cast<char *>(Values[I]);
    else if (Options[I] == SizeOpt)
      Size = static_cast<size_t>(reinterpret_cast<uintptr_t>(Values[I]));
  }
  if (Buffer && Size > 0) {
    std::strncpy(Buffer, Message.c_str(), Size - 1);
    Buffer[Size - 1] = '\0';
  }
}

static Error loadImage(CUmodule *Module, const void *Image, size_t MaxSize, std::string Name, const char *Api,
                       unsigned NumOptions = 0, CUjit_option *Options = nullptr, void **Values = nullptr) {
  if (!Module)
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": module is NULL");
  if (!Image)
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": image is NULL");
  if (NumOptions > 0 && (!Options || !Values))
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": options or optionValues is NULL");
  auto Ctx = requireContext(Api);
  if (!Ctx)
    return Ctx.takeError();
  auto M = core::Module::loadImage(**Ctx, Image, MaxSize, std::move(Name));
  if (!M) {
    fillJitLog(NumOptions, Options, Values, CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
               M.error().message());
    return M.takeError();
  }
  fillJitLog(NumOptions, Options, Values, CU_JIT_INFO_LOG_BUFFER, CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES,
             "cuda_shim: module translated for the host backend");
  *Module = (*M)->handle();
  return Error::success();
}

Expected<std::string> cushim::driver::readImageFile(const char *Path, const char *Api) {
  std::ifstream In(Path, std::ios::binary);
  if (!In)
    return makeError(CUDA_ERROR_FILE_NOT_FOUND, fmt::format("{}: cannot open '{}'", Api, Path));
  std::stringstream SS;
  SS << In.rdbuf();
  std::string Data = SS.str();
  Data.push_back('\0'); // PTX text must be terminated; harmless after binary images
  return Data;
}

CUSHIM_EXPORT CUresult cuModuleLoad(CUmodule *Module, const char *Fname) {
  ApiTrace T("cuModuleLoad");
  T.args("module={} fname={}", static_cast<void *>(Module), Fname ? Fname : "(null)");
  CUSHIM_DRIVER_BODY(T, {
    if (!Fname)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuModuleLoad: fname is NULL");
    auto Data = readImageFile(Fname, "cuModuleLoad");
    if (!Data)
      return Data.takeError();
    return loadImage(Module, Data->data(), Data->size(), Fname, "cuModuleLoad");
  });
}

CUSHIM_EXPORT CUresult cuModuleLoadData(CUmodule *Module, const void *Image) {
  ApiTrace T("cuModuleLoadData");
  T.args("module={} image={}", static_cast<void *>(Module), Image);
  return T.done(loadImage(Module, Image, 0, "cuModuleLoadData image", "cuModuleLoadData"));
}

CUSHIM_EXPORT CUresult cuModuleLoadDataEx(CUmodule *Module, const void *Image, unsigned int NumOptions,
                                          CUjit_option *Options, void **OptionValues) {
  ApiTrace T("cuModuleLoadDataEx");
  T.args("module={} image={} numOptions={}", static_cast<void *>(Module), Image, NumOptions);
  return T.done(loadImage(Module, Image, 0, "cuModuleLoadDataEx image", "cuModuleLoadDataEx", NumOptions, Options,
                          OptionValues));
}

CUSHIM_EXPORT CUresult cuModuleLoadFatBinary(CUmodule *Module, const void *FatCubin) {
  ApiTrace T("cuModuleLoadFatBinary");
  T.args("module={} fatCubin={}", static_cast<void *>(Module), FatCubin);
  return T.done(loadImage(Module, FatCubin, 0, "cuModuleLoadFatBinary image", "cuModuleLoadFatBinary"));
}

CUSHIM_EXPORT CUresult cuModuleUnload(CUmodule Handle) {
  ApiTrace T("cuModuleUnload");
  T.args("hmod={}", static_cast<void *>(Handle));
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    core::Module *M = core::lookupModule(Handle);
    if (!M)
      return makeError(CUDA_ERROR_INVALID_HANDLE, "cuModuleUnload: not a live module");
    forgetRuntimeModule(*M);
    forgetLegacyLaunchState(*M);
    return core::Module::unload(M);
  });
}

CUSHIM_EXPORT CUresult cuModuleGetFunction(CUfunction *Hfunc, CUmodule Hmod, const char *Name) {
  ApiTrace T("cuModuleGetFunction");
  T.args("hfunc={} hmod={} name={}", static_cast<void *>(Hfunc), static_cast<void *>(Hmod), Name ? Name : "(null)");
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    if (!Hfunc || !Name)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuModuleGetFunction: hfunc or name is NULL");
    core::Module *M = core::lookupModule(Hmod);
    if (!M)
      return makeError(CUDA_ERROR_INVALID_HANDLE, "cuModuleGetFunction: not a live module");
    auto F = M->function(Name);
    if (!F)
      return F.takeError();
    *Hfunc = (*F)->handle();
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuModuleGetGlobal_v2(CUdeviceptr *Dptr, size_t *Bytes, CUmodule Hmod, const char *Name) {
  ApiTrace T("cuModuleGetGlobal_v2");
  T.args("dptr={} bytes={} hmod={} name={}", static_cast<void *>(Dptr), static_cast<void *>(Bytes),
         static_cast<void *>(Hmod), Name ? Name : "(null)");
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    if (!Name)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuModuleGetGlobal: name is NULL");
    core::Module *M = core::lookupModule(Hmod);
    if (!M)
      return makeError(CUDA_ERROR_INVALID_HANDLE, "cuModuleGetGlobal: not a live module");
    auto G = M->global(Name);
    if (!G)
      return G.takeError();
    if (Dptr)
      *Dptr = reinterpret_cast<CUdeviceptr>(G->first);
    if (Bytes)
      *Bytes = G->second;
    return Error::success();
  });
}
