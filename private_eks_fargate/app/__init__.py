"""The app: context parsing and the stage of three stacks that `cdk deploy` deploys."""
