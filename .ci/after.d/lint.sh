# Biome's formatter and linter over the tree (biome.json): a file that is not formatted, or a lint
# error, fails CI. `npm run format` fixes what can be fixed.
set -e
cd "$(dirname "$0")/../.."
./node_modules/.bin/biome ci .
