from resnet_signs.cli import main

raise SystemExit(main())
