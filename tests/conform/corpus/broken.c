/* Does not compile on purpose: the runner must classify the programs built from it as build-error. */
int main(void) { return missing_symbol + ; }
