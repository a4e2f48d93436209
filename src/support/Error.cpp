// Error construction helpers.
#include "support/Error.h"

namespace cushim {

Error makeError(CUresult Code, std::string Message) { return Error(Code, std::move(Message)); }

} // namespace cushim
