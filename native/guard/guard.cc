// Placeholder until the guard lands.
int main() { return 0; }
